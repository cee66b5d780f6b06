package tornet

import (
	"fmt"
	"os"
	"strings"
)

// Voting timing for the authorities. Tor's fastest settings: a consensus
// every 10 seconds, votes and signatures exchanged within 2 seconds each
// (on loopback they take milliseconds, even on a busy machine). The first
// consensus uses the same interval as the rest, because onion services and
// clients derive their time period (24 voting rounds in a test network)
// from the interval of the consensus they hold: with one interval, every
// node agrees on where to publish and fetch descriptors.
const (
	votingInterval = 10
	voteDelay      = 2
	distDelay      = 2
)

// common is the part of every node's torrc.
func (n *Network) common(nd *node) []string {
	lines := []string{
		"TestingTorNetwork 1",
		"DataDirectory " + nd.dir,
		"Nickname " + nd.name,
		"Log notice file " + nd.path("notice.log"),
		// The control port: a free port chosen by tor, written to a file, with
		// a cookie. tornet watches bootstrapping and events through it.
		"ControlPort auto",
		"ControlPortWriteToFile " + nd.path("control-port"),
		"CookieAuthentication 1",
		// tor exits by itself if the test process dies without cleaning up.
		fmt.Sprintf("__OwningControllerProcess %d", os.Getpid()),
		"ShutdownWaitLength 0",
		// A 6-relay network: 2/3 of the descriptors are enough to build
		// circuits (chutney's setting).
		"PathsNeededToBuildCircuits 0.67",
		// The consensus is valid for two intervals; every node also believes
		// the voting interval before it holds a consensus.
		fmt.Sprintf("V3AuthVotingInterval %d", votingInterval),
		"V3AuthNIntervalsValid 2",
		"SafeLogging 1",
	}
	return append(lines, n.dirAuthorities...)
}

// relayLines make a non-exit relay; AssumeReachable skips the self-test
// that would otherwise hold back its descriptor until circuits exist.
func relayLines(nd *node) []string {
	return []string{
		"SocksPort 0",
		"Address 127.0.0.1",
		fmt.Sprintf("ORPort 127.0.0.1:%d", nd.orPort),
		"AssumeReachable 1",
		"ExitRelay 0",
		"ExitPolicy reject *:*",
		"ContactInfo tornet@hearken.invalid",
	}
}

// authorityLines make a directory authority that votes every relay a
// Guard and an HSDir at once, rather than after hours of uptime.
func authorityLines(nd *node) []string {
	return []string{
		fmt.Sprintf("DirPort 127.0.0.1:%d", nd.dirPort),
		"AuthoritativeDirectory 1",
		"V3AuthoritativeDirectory 1",
		fmt.Sprintf("TestingV3AuthInitialVotingInterval %d", votingInterval),
		fmt.Sprintf("TestingV3AuthInitialVoteDelay %d", voteDelay),
		fmt.Sprintf("TestingV3AuthInitialDistDelay %d", distDelay),
		fmt.Sprintf("V3AuthVoteDelay %d", voteDelay),
		fmt.Sprintf("V3AuthDistDelay %d", distDelay),
		"TestingDirAuthVoteGuard *",
		"TestingDirAuthVoteHSDir *",
	}
}

func writeTorrc(path string, lines []string) error {
	return os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}
