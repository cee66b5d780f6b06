package tornet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hearken-project/hearken/internal/onion"
)

// ServiceOptions describe an onion service.
type ServiceOptions struct {
	// Port is the port visitors ask for; 80 if zero.
	Port int
	// Target is where tor passes visitors: "unix:/path" or "127.0.0.1:PORT".
	Target string
	// AuthorizedClients, if any, turn on client authorization: only tor
	// clients holding one of these keys can reach the service. Each is
	// written to HiddenServiceDir/authorized_clients/<n>.auth.
	AuthorizedClients []onion.ClientPublicKey
}

// Service is a running onion service.
type Service struct {
	// Address is the service's "<56 letters>.onion".
	Address string
	// Dir is its HiddenServiceDir.
	Dir string

	node *node
}

// AddService starts an onion service in its own tor and returns once its
// descriptor has been uploaded to the network's HSDirs.
func (n *Network) AddService(opts ServiceOptions) *Service {
	n.t.Helper()
	if opts.Port == 0 {
		opts.Port = 80
	}
	if !strings.HasPrefix(opts.Target, "unix:/") && !strings.HasPrefix(opts.Target, "127.0.0.1:") {
		n.t.Fatalf("tornet: a service's Target is unix:/path or 127.0.0.1:PORT, not %q", opts.Target)
	}
	n.mu.Lock()
	n.seq++
	name := fmt.Sprintf("service%d", n.seq)
	n.mu.Unlock()
	nd := n.newNode(name)
	s := &Service{Dir: nd.path("hs"), node: nd}
	if err := writeAuthorizedClients(s.Dir, opts.AuthorizedClients); err != nil {
		n.fail(err)
	}
	torrc := slices.Concat(n.common(nd), []string{
		"SocksPort 0",
		"HiddenServiceDir " + s.Dir,
		fmt.Sprintf("HiddenServicePort %d %s", opts.Port, opts.Target),
	})
	if err := nd.start(n.tor, torrc); err != nil {
		n.fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	if err := nd.connect(ctx); err != nil {
		n.fail(err)
	}
	// Listen before tor can have uploaded anything: it needs a consensus
	// and introduction circuits first.
	if err := nd.ctl.SetEvents(ctx, "HS_DESC"); err != nil {
		n.fail(err)
	}
	err := poll(ctx, name+"'s onion address", []*node{nd}, func() (bool, error) {
		b, err := os.ReadFile(filepath.Join(s.Dir, "hostname"))
		s.Address = strings.TrimSpace(string(b))
		return err == nil && strings.HasSuffix(s.Address, ".onion"), nil
	})
	if err != nil {
		n.fail(err)
	}
	if err := nd.ready(ctx, n.relays); err != nil {
		n.fail(err)
	}
	if err := waitPublished(ctx, nd.ctl); err != nil {
		n.fail(fmt.Errorf("%s: %w", name, err))
	}
	return s
}

// writeAuthorizedClients makes HiddenServiceDir and its authorized_clients
// directory (mode 0700, as tor insists) with one .auth file a key.
func writeAuthorizedClients(dir string, keys []onion.ClientPublicKey) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	ac := filepath.Join(dir, "authorized_clients")
	if err := os.Mkdir(ac, 0o700); err != nil {
		return err
	}
	for i, k := range keys {
		p := filepath.Join(ac, fmt.Sprintf("client%d.auth", i))
		if err := os.WriteFile(p, []byte(k.String()+"\n"), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// waitPublished reads HS_DESC events until the first round of uploads is
// over: every HSDir tor chose has answered, and at least one took the
// descriptor. tor uploads the current and the next time period's
// descriptors at once, so that round covers both.
func waitPublished(ctx context.Context, ctl *onion.Control) error {
	pending := map[string]int{}
	uploaded := 0
	for {
		ev, err := ctl.NextEvent(ctx)
		if err != nil {
			return fmt.Errorf("waiting for the descriptor to be published: %w", err)
		}
		// HS_DESC <action> <address> <auth type> <hsdir> ...
		f := strings.Fields(ev)
		if len(f) < 5 || f[0] != "HS_DESC" {
			continue
		}
		switch hsdir := f[4]; f[1] {
		case "UPLOAD":
			pending[hsdir]++
		case "UPLOADED":
			pending[hsdir]--
			uploaded++
		case "FAILED":
			pending[hsdir]--
		}
		if uploaded > 0 && !slices.ContainsFunc(mapValues(pending), func(v int) bool { return v > 0 }) {
			return nil
		}
	}
}

func mapValues(m map[string]int) []int {
	var vs []int
	for _, v := range m {
		vs = append(vs, v)
	}
	return vs
}
