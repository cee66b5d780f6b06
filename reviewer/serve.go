package reviewer

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/reviewer/desk"
)

// serve runs the lead's desk on this computer until interrupted.
func (c *cli) serve(fs *flag.FlagSet, args []string) error {
	listen := fs.String("listen", "127.0.0.1:0", "")
	idle := fs.Duration("idle-lock", 15*time.Minute, "")
	every := fs.Duration("sync-every", 5*time.Minute, "")
	lang := fs.String("lang", "", "")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	if *idle < time.Minute {
		return errUsage{"--idle-lock is at least 1m"}
	}
	if *every != 0 && *every < time.Minute {
		return errUsage{"--sync-every is at least 1m, or 0 to sync only when asked"}
	}
	if *every == 0 {
		*every = -1
	}
	path := c.identityPath()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("there is no identity at %s: make one with reviewer keygen --name \"Your Name\", or give --identity", path)
	}
	cfg, err := cases.LoadConfig(c.store)
	if err != nil {
		return err
	}
	guidanceLang := deskLang(*lang, cfg.Lang, os.Getenv)
	if err := desk.CheckLang(c.store, guidanceLang); err != nil {
		return errUsage{err.Error()}
	}
	ln, err := desk.Listen(*listen)
	if err != nil {
		return errUsage{err.Error()}
	}
	d, err := desk.New(desk.Options{Store: c.store, Identity: path, IdleLock: *idle, SyncEvery: *every, Lang: guidanceLang})
	if err != nil {
		ln.Close()
		return err
	}
	if c.passFile != "" {
		// Unlocked from the start; after the idle lock the passphrase is
		// asked for on the page, never read from the file again.
		p, err := c.passphrase("", false)
		if err == nil {
			err = d.Unlock(p)
		}
		if err != nil {
			ln.Close()
			return err
		}
	}
	fmt.Fprintln(c.stderr, "The desk is running. Open the address below in your web browser (it works once);")
	fmt.Fprintln(c.stderr, "press Ctrl+C here to stop the desk.")
	fmt.Fprintf(c.stderr, "Guidance for the lead in %s; the desk has it in %s (reviewer serve --lang CODE).\n", guidanceLang, strings.Join(desk.Languages(c.store), ", "))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return d.Serve(ctx, ln, c.stdout)
}
