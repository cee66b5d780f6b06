package tornet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

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
	// Dir, if set, is an existing HiddenServiceDir (mode 0700) whose
	// authorized_clients someone else keeps, as intake check does on a
	// server; AuthorizedClients must then be empty.
	Dir string
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
	return n.AddServices(opts)[0]
}

// AddServices starts onion services at once, each in its own tor, and
// returns them once each descriptor has been uploaded.
func (n *Network) AddServices(opts ...ServiceOptions) []*Service {
	n.t.Helper()
	svcs := make([]*Service, len(opts))
	for i, o := range opts {
		if o.Port == 0 {
			o.Port = 80
		}
		if !strings.HasPrefix(o.Target, "unix:/") && !strings.HasPrefix(o.Target, "127.0.0.1:") {
			n.t.Fatalf("tornet: a service's Target is unix:/path or 127.0.0.1:PORT, not %q", o.Target)
		}
		if o.Dir != "" && len(o.AuthorizedClients) > 0 {
			n.t.Fatalf("tornet: a service with its own Dir keeps its own authorized_clients")
		}
		n.mu.Lock()
		n.seq++
		name := fmt.Sprintf("service%d", n.seq)
		n.mu.Unlock()
		nd := n.newNode(name)
		s := &Service{Dir: o.Dir, node: nd}
		if s.Dir == "" {
			s.Dir = nd.path("hs")
			if err := writeAuthorizedClients(s.Dir, o.AuthorizedClients); err != nil {
				n.fail(err)
			}
		}
		torrc := slices.Concat(n.common(nd), []string{
			"SocksPort 0",
			"HiddenServiceDir " + s.Dir,
			fmt.Sprintf("HiddenServicePort %d %s", o.Port, o.Target),
		})
		if err := nd.start(n.tor, torrc); err != nil {
			n.fail(err)
		}
		svcs[i] = s
	}
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	errs := make([]error, len(svcs))
	var wg sync.WaitGroup
	for i, s := range svcs {
		wg.Go(func() { errs[i] = n.publish(ctx, s) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			n.fail(err)
		}
	}
	return svcs
}

// publish waits for a new service's address and its first descriptor.
func (n *Network) publish(ctx context.Context, s *Service) error {
	nd := s.node
	if err := nd.connect(ctx); err != nil {
		return err
	}
	// Listen before tor can have uploaded anything: it needs a consensus
	// and introduction circuits first.
	if err := nd.ctl.SetEvents(ctx, "HS_DESC"); err != nil {
		return err
	}
	err := poll(ctx, nd.name+"'s onion address", []*node{nd}, func() (bool, error) {
		b, err := os.ReadFile(filepath.Join(s.Dir, "hostname"))
		s.Address = strings.TrimSpace(string(b))
		return err == nil && strings.HasSuffix(s.Address, ".onion"), nil
	})
	if err != nil {
		return err
	}
	if err := nd.ready(ctx, n.relays); err != nil {
		return err
	}
	if err := waitPublished(ctx, nd.ctl); err != nil {
		return fmt.Errorf("%s: %w", nd.name, err)
	}
	return nil
}

// Reload makes the service's tor read its configuration and keys again,
// as "systemctl reload tor" does (SIGHUP), and returns once it has
// uploaded a new descriptor: one that lists the clients now in
// authorized_clients.
func (s *Service) Reload(ctx context.Context) error {
	ctl, err := s.node.dialControl(ctx)
	if err != nil {
		return err
	}
	defer ctl.Close()
	if err := ctl.SetEvents(ctx, "HS_DESC"); err != nil {
		return err
	}
	if err := s.node.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return fmt.Errorf("tornet: failed to signal %s: %w", s.node.name, err)
	}
	if err := waitPublished(ctx, ctl); err != nil {
		return fmt.Errorf("%s after a reload: %w", s.node.name, err)
	}
	return nil
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
