package reviewer

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/hearken-project/hearken/reviewer/cases"
)

func (c *cli) sync(fs *flag.FlagSet, args []string) error {
	server := fs.String("server", "", "")
	proxyURL := fs.String("proxy", "", "")
	control := fs.String("tor-control", "", "")
	authDir := fs.String("onion-auth-dir", "", "")
	asJSON := fs.Bool("json", false, "")
	again := fs.Bool("again", false, "")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := cases.LoadConfig(c.store)
	if err != nil {
		return err
	}
	if *server != "" {
		cfg.Server = *server
	}
	switch *proxyURL {
	case "":
	case proxyOff:
		cfg.Proxy = ""
	default:
		cfg.Proxy = *proxyURL
	}
	// "auto" (as init takes it) means the usual places.
	for _, o := range []struct{ arg, to *string }{{control, &cfg.TorControl}, {authDir, &cfg.OnionAuthDir}} {
		switch *o.arg {
		case "":
		case "auto":
			*o.to = ""
		default:
			*o.to = *o.arg
		}
	}
	res, err := c.runSync(cfg, errUsage{"sync needs to know the server: run reviewer init --server URL once, or give --server URL"}, *again)
	if *asJSON {
		out := struct {
			*cases.SyncResult
			Error string `json:"error,omitempty"`
			Hint  string `json:"hint,omitempty"`
		}{res, "", ""}
		if res == nil {
			out.SyncResult = &cases.SyncResult{KindCount: map[string]int{}}
		}
		if err != nil {
			out.Error = "sync stopped: " + withHint(err)
			out.Hint = hintOf(err)
		}
		if werr := writeJSON(c.stdout, out); werr != nil && err == nil {
			err = werr
		}
	} else {
		c.printSync(res)
	}
	if err != nil {
		var u errUsage
		if errors.As(err, &u) {
			return err
		}
		return fmt.Errorf("sync stopped: %w", err)
	}
	return nil
}

// runSync opens the store and syncs it with the configured server; with
// again, it first asks the server to send everything again.
func (c *cli) runSync(cfg cases.Config, noServer error, again bool) (*cases.SyncResult, error) {
	if cfg.Server == "" {
		return nil, noServer
	}
	m, st, err := c.openStore(true)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	client, err := cfg.NewClient(m)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tor, err := c.connectTor(ctx, client, m, cfg)
	if err != nil {
		return nil, err
	}
	sync := cases.Sync
	if again {
		sync = cases.SyncAgain
	}
	res, err := sync(ctx, st, client)
	if client.Proxied() {
		err = torHint(err, tor, cfg)
	}
	return res, err
}
