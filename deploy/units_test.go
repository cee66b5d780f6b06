package deploy

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// exposure runs systemd-analyze's offline security check on a unit and
// returns its overall exposure figure.
func exposure(t *testing.T, unit string) float64 {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	out, err := exec.Command(analyze, "security", "--offline=yes", "--no-pager", unit).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security %s: %v\n%s", unit, err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure figure:\n%s", out)
	}
	f, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The clear-web unit's exposure is what README.md says it is, and no
// worse than the onion unit's by more than the capability and the network
// it needs: the onion unit has no network at all (systemd-analyze counts
// PrivateNetwork 0.5, internet sockets 0.3 and an address allow list up to
// 0.2), and no capability (0.1).
func TestWebUnitExposure(t *testing.T) {
	web := exposure(t, "hearken-intake-web.service")
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`reports an exposure of \*\*([0-9.]+) OK\*\*`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md does not state the clear-web unit's exposure")
	}
	if stated, _ := strconv.ParseFloat(string(m[1]), 64); stated != web {
		t.Errorf("README.md states exposure %v; systemd-analyze measures %v", stated, web)
	}
	if onion := exposure(t, "hearken-intake.service"); web > onion+1.1 {
		t.Errorf("clear-web unit exposure %v, onion unit %v", web, onion)
	}
}

// The clear-web unit serves the onion service on the socket the torrc
// forwards to, HTTPS on 443 and challenges on 80, and can bind those ports
// only.
func TestWebUnit(t *testing.T) {
	data, err := os.ReadFile("hearken-intake-web.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(data)
	for _, want := range []string{
		"--onion-listen unix:" + intakeSocket,
		"--listen :443 --http-listen :80",
		"\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\n",
		"\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n",
		"\nNoNewPrivileges=yes\n",
		"\nSocketBindAllow=tcp:80\nSocketBindAllow=tcp:443\nSocketBindDeny=any\n",
		"\nConflicts=hearken-intake.service\n",
		"\nReadWritePaths=/var/lib/hearken\n",
		"\nExecReload=/bin/kill -HUP $MAINPID\n",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("hearken-intake-web.service lacks %q", want)
		}
	}
}
