package tornet

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// SkipEnv names the environment variable that skips tests needing the
// private network (set it to 1). Nothing else skips them but -short: a
// machine without tor fails them, so CI cannot pass by accident.
const SkipEnv = "HEARKEN_SKIP_TOR"

// Timeouts are last guards only; every wait polls for its condition. They
// are generous because other builds may share the machine's cores.
const (
	networkTimeout = 3 * time.Minute
	nodeTimeout    = 2 * time.Minute
	authorities    = 3
)

// Options shape the network.
type Options struct {
	// Relays is how many relays join the three directory authorities (which
	// relay too); 3 if zero. Onion services need at least 5 relays in all:
	// 3-hop circuits, a rendezvous point and introduction points.
	Relays int
}

// Network is a running private Tor network.
type Network struct {
	// Bootstrap is how long Start took to bring the network up.
	Bootstrap time.Duration

	t              testing.TB
	tor            string
	dir            string
	dirAuthorities []string
	relays         int

	mu    sync.Mutex
	nodes []*node
	seq   int
}

// Start brings up a private Tor network on 127.0.0.1: three directory
// authorities with keys from tor-gencert, and relays, in a directory under
// t.TempDir(). It returns once every node is bootstrapped and sees every
// relay in its consensus, and stops everything when the test ends.
func Start(t testing.TB, opts Options) *Network {
	t.Helper()
	if testing.Short() {
		t.Skip("the private Tor network does not run with -short")
	}
	if os.Getenv(SkipEnv) != "" {
		t.Skipf("the private Tor network is skipped: %s is set", SkipEnv)
	}
	if opts.Relays == 0 {
		opts.Relays = 3
	}
	tor := binary(t, "tor")
	gencert := binary(t, "tor-gencert")
	n := &Network{t: t, tor: tor, dir: t.TempDir(), relays: authorities + opts.Relays}
	// Registered after t.TempDir, so it runs first: tor is gone before its
	// files are removed.
	t.Cleanup(n.stop)
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), networkTimeout)
	defer cancel()

	auths := make([]*node, authorities)
	errs := make([]error, authorities)
	var wg sync.WaitGroup
	for i := range auths {
		auths[i] = n.newNode(fmt.Sprintf("auth%d", i))
		wg.Go(func() { errs[i] = n.authorityKeys(auths[i], gencert) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			n.fail(err)
		}
	}
	for _, a := range auths {
		if err := a.start(n.tor, slices.Concat(n.common(a), relayLines(a), authorityLines(a))); err != nil {
			n.fail(err)
		}
	}
	for i := range opts.Relays {
		r := n.newNode(fmt.Sprintf("relay%d", i))
		if err := r.start(n.tor, slices.Concat(n.common(r), relayLines(r))); err != nil {
			n.fail(err)
		}
	}
	n.waitReady(ctx, n.nodes)
	n.Bootstrap = time.Since(begin)
	t.Logf("tornet: %d authorities and %d relays bootstrapped in %s", authorities, opts.Relays, n.Bootstrap.Round(100*time.Millisecond))
	return n
}

// SocketPath returns a path for a unix socket in the network's directory,
// short enough for the 108-byte limit on socket paths.
func (n *Network) SocketPath(name string) string {
	p := filepath.Join(n.dir, name)
	if len(p) > 100 {
		n.t.Fatalf("tornet: socket path %s is too long for a unix socket; set TMPDIR to a shorter directory", p)
	}
	return p
}

// newNode makes a node's directory (mode 0700, as tor insists) and picks
// its ports.
func (n *Network) newNode(name string) *node {
	n.t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	nd := &node{name: name, dir: filepath.Join(n.dir, name)}
	if err := os.Mkdir(nd.dir, 0o700); err != nil {
		n.fail(err)
	}
	if strings.HasPrefix(name, "auth") || strings.HasPrefix(name, "relay") {
		nd.orPort = freePort(n.t)
	}
	if strings.HasPrefix(name, "auth") {
		nd.dirPort = freePort(n.t)
	}
	n.nodes = append(n.nodes, nd)
	return nd
}

// authorityKeys makes an authority's identity, signing key and certificate
// with tor-gencert, and its relay identity with tor --list-fingerprint, and
// adds its DirAuthority line for every node's torrc.
func (n *Network) authorityKeys(nd *node, gencert string) error {
	keys := nd.path("keys")
	if err := os.Mkdir(keys, 0o700); err != nil {
		return err
	}
	cmd := exec.Command(gencert, "--create-identity-key", "--passphrase-fd", "0",
		"-i", filepath.Join(keys, "authority_identity_key"),
		"-s", filepath.Join(keys, "authority_signing_key"),
		"-c", filepath.Join(keys, "authority_certificate"),
		"-m", "12", "-a", fmt.Sprintf("127.0.0.1:%d", nd.dirPort))
	cmd.Stdin = strings.NewReader("\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("tor-gencert for %s failed: %v\n%s", nd.name, err, out)
	}
	cert, err := os.ReadFile(filepath.Join(keys, "authority_certificate"))
	if err != nil {
		return err
	}
	var v3ident string
	for _, l := range strings.Split(string(cert), "\n") {
		if f, ok := strings.CutPrefix(l, "fingerprint "); ok {
			v3ident = strings.TrimSpace(f)
		}
	}
	if err := os.WriteFile(nd.path("torrc-defaults"), nil, 0o600); err != nil {
		return err
	}
	cmd = exec.Command(n.tor, "--list-fingerprint", "--ignore-missing-torrc",
		"-f", nd.path("torrc"), "--defaults-torrc", nd.path("torrc-defaults"),
		"--DataDirectory", nd.dir, "--ORPort", "1", "--Nickname", nd.name)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("tor --list-fingerprint for %s failed: %v\n%s", nd.name, err, out)
	}
	fp, err := os.ReadFile(nd.path("fingerprint"))
	if err != nil {
		return err
	}
	f := strings.Fields(string(fp))
	if len(f) != 2 || len(v3ident) != 40 {
		return fmt.Errorf("tornet: no fingerprints for %s", nd.name)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dirAuthorities = append(n.dirAuthorities, fmt.Sprintf("DirAuthority %s orport=%d v3ident=%s 127.0.0.1:%d %s",
		nd.name, nd.orPort, v3ident, nd.dirPort, f[1]))
	return nil
}

// waitReady connects to each node's control port and waits until all are
// bootstrapped and see the whole network.
func (n *Network) waitReady(ctx context.Context, nodes []*node) {
	n.t.Helper()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, nd := range nodes {
		wg.Go(func() {
			if errs[i] = nd.connect(ctx); errs[i] == nil {
				errs[i] = nd.ready(ctx, n.relays)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			n.fail(err)
		}
	}
}

// fail ends the test with err and the end of every node's log.
func (n *Network) fail(err error) {
	n.t.Helper()
	n.mu.Lock()
	nodes := append([]*node(nil), n.nodes...)
	n.mu.Unlock()
	for _, nd := range nodes {
		n.t.Logf("tornet: the end of %s's log:\n%s", nd.name, nd.logTail(15))
	}
	n.t.Fatalf("tornet: %v", err)
}

// stop ends every tor at once and waits for them.
func (n *Network) stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	var wg sync.WaitGroup
	for _, nd := range n.nodes {
		wg.Go(nd.stop)
	}
	wg.Wait()
}

// binary finds a tor program: on PATH, or where Debian installs it (tor is
// in /usr/sbin, which an ordinary user's PATH may lack).
func binary(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	t.Fatalf("tornet: %s is not installed (Debian: apt-get install tor); set %s=1 to skip the Tor network tests", name, SkipEnv)
	return ""
}

// freePort returns a loopback port that was free a moment ago. The
// authorities' ports must be known before tor starts, for everyone's
// DirAuthority lines; the kernel does not hand the port out again at once.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tornet: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
