package intake

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/vault"
)

const usage = `Usage:
  intake init --config FILE [--data DIR] [--staff-onion-dir DIR]
  intake serve [--data DIR] [--listen ADDR] [--http-listen ADDR] [--onion-listen ADDR] [--staff-listen ADDR]... [--accept-rollback] (--config FILE | --demo)
  intake check --config FILE [--apply [--unit UNIT]]
  intake alert-test --config FILE
  intake backup [--data DIR] --out FILE
  intake retention --config FILE [--data DIR] [--confirm-date] [--allow-large]
  intake repair [--data DIR]

init    writes a commented config, team files to fill in, a torrc, and an
        empty store. --staff-onion-dir is the staff onion service's
        HiddenServiceDir, where check writes the team's onion keys for tor.
serve   runs the public site. ADDR is host:port or unix:/path/to/socket.
        --listen defaults to 127.0.0.1:8080, or :443 when the config has a
        [tls] section: then the site is served over HTTPS, and
        --http-listen (default :80; "off" turns it off) answers the
        certificate authority's challenges and redirects to HTTPS;
        --onion-listen (unix:/path or loopback) serves the same site in
        plain HTTP for tor, so one server offers both routes.
        --staff-listen is where the team's reviewer syncs from: by default
        the socket DATA/staff.sock (mode 0660, for tor's staff onion); a
        loopback host:port is allowed; give it more than once for more
        sockets (one for SSH, say); "off" turns it off. It is never on the
        public listener.
        --demo makes a throwaway team so you can try it out.
        --accept-rollback starts on a store whose newest commit record is
        damaged, losing that commit; see deploy/README.md first.
        On SIGHUP (systemctl reload) it reads the team files again: all
        are checked first, and a bad one leaves the teams as they were.
check   checks a config file and the team files it names. With
        staff_onion_dir set, it also writes each team member's onion key
        where tor reads it and removes those of members taken out (as
        root). --apply then puts changed team files into effect with no
        restart: it reloads the running server (which reads its team files
        again on SIGHUP) and tor, through systemctl, or says how; --unit
        names the server's unit if it is not hearken-intake or
        hearken-intake-web.
alert-test
        sends one test alert now to every destination in the config's
        [alerts], and says which failed and why.
backup  writes a verified copy of the store to a new file.
retention
        says what the store makes of the clock and what retention would
        delete today. --confirm-date tells the store today's date is right
        after the log said the clock looks wrong; --allow-large runs
        retention now when it would delete more than a quarter of the
        threads. Stop the server first.
repair  checks the staff queue against the threads' records and, if it is
        damaged, keeps a copy of the store and rebuilds the queue. Stop the
        server first.
`

// usageError is a mistake in the command line: Main prints it, with the
// usage if asked to, and exits with status 2.
type usageError struct {
	msg       string // "" when the flag package has already said what is wrong
	showUsage bool
}

func (e usageError) Error() string { return e.msg }

// hintError is an error with advice for the person at the terminal. Errors
// from the rest of the package say what went wrong; the command line adds
// what to do about it, on a line of its own, as cmd/age's errorWithHint
// does.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

func withHint(err error, format string, args ...any) error {
	return &hintError{err: err, hint: fmt.Sprintf(format, args...)}
}

// cli is one run of the command line. Each command returns an error
// instead of printing it; Main prints it and picks the exit status.
type cli struct {
	stdout, stderr io.Writer
}

// Main runs the intake command line and returns the exit status: 0, 1 for
// a failure, 2 for a mistake in the command line.
func Main(args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr}
	err := c.run(args)
	if err == nil {
		return 0
	}
	var u usageError
	if errors.As(err, &u) {
		if u.msg != "" {
			fmt.Fprintln(stderr, u.msg)
		}
		if u.showUsage {
			if u.msg != "" {
				fmt.Fprintln(stderr)
			}
			fmt.Fprint(stderr, usage)
		}
		return 2
	}
	fmt.Fprintf(stderr, "intake: %v\n", err)
	var h *hintError
	if errors.As(err, &h) {
		fmt.Fprintf(stderr, "intake: hint: %s\n", h.hint)
	}
	return 1
}

func (c *cli) run(args []string) error {
	if len(args) == 0 {
		return usageError{showUsage: true}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return c.serve(rest)
	case "init":
		return c.init(rest)
	case "check":
		return c.check(rest)
	case "alert-test":
		return c.alertTest(rest)
	case "retention":
		return c.retention(rest)
	case "repair":
		return c.repair(rest)
	case "backup":
		return c.backup(rest)
	case "help", "-h", "--help":
		fmt.Fprint(c.stdout, usage)
		return nil
	}
	return usageError{msg: fmt.Sprintf("intake: unknown command %q", cmd), showUsage: true}
}

// parse parses a command's flags. The flag package reports its own errors
// on stderr, with the command's flags.
func (c *cli) parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(c.stderr)
	if err := fs.Parse(args); err != nil {
		return usageError{}
	}
	if fs.NArg() > 0 {
		return usageError{msg: fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}

// readConfig loads the config for serve and check; a missing file gets the
// command that makes one.
func (c *cli) readConfig(path string) (*config, error) {
	cfg, err := loadConfig(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, withHint(err, "to make one, run: intake init --config %s", path)
	}
	return cfg, err
}

// Where serve listens unless told otherwise: the demo and a first try on
// loopback, plain HTTP; a config with [tls], HTTPS on every address.
const (
	defaultListen      = "127.0.0.1:8080"
	defaultHTTPSListen = ":443"
)

func (c *cli) serve(args []string) error {
	fs := flag.NewFlagSet("intake serve", flag.ContinueOnError)
	data := fs.String("data", "./hearken-data", "data `directory` for the store")
	listen := fs.String("listen", "", "`address`: host:port or unix:/path (default 127.0.0.1:8080, or :443 with [tls])")
	onionListen := fs.String("onion-listen", "", "`address` with [tls]: the site in plain HTTP for the onion service, unix:/path or loopback host:port")
	httpListen := fs.String("http-listen", ":80", "`address` for plain HTTP with [tls]: ACME challenges and redirects to HTTPS (\"off\" turns it off)")
	var staffListen []string
	fs.Func("staff-listen", "`address` for the staff channel: unix:/path or loopback host:port, more than once for more listeners (default unix:DATA/staff.sock; \"off\" turns it off)", func(s string) error {
		staffListen = append(staffListen, s)
		return nil
	})
	configPath := fs.String("config", "", "config `file` (TOML)")
	demo := fs.Bool("demo", false, "run with a throwaway demo team")
	acceptRollback := fs.Bool("accept-rollback", false, "open a store whose newest commit record is damaged at the commit before it, losing that commit")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	switch {
	case len(staffListen) == 0:
		staffListen = []string{"unix:" + filepath.Join(*data, "staff.sock")}
	case slices.Contains(staffListen, "off"):
		if len(staffListen) > 1 {
			return usageError{msg: "intake serve: --staff-listen off cannot be given with other staff listeners"}
		}
		staffListen = nil
	}
	// SIGHUP (systemctl reload) reads the team files again. Caught from the
	// start: its default action would end the process.
	reload := make(chan os.Signal, 1)
	signal.Notify(reload, syscall.SIGHUP)
	defer signal.Stop(reload)
	// No timestamps: a request line stamped to the second would record when
	// a report arrived. The service manager stamps lifecycle lines itself.
	logger := zerolog.New(c.stderr)

	var cfg *config
	var err error
	switch {
	case *configPath != "":
		cfg, err = c.readConfig(*configPath)
		if *demo && err == nil {
			logger.Warn().Msg("--demo ignored: the config names the teams")
		}
	case *demo:
		var created bool
		cfg, created, err = demoConfig(*data)
		if errors.Is(err, errDemoIncomplete) {
			err = withHint(err, "remove %s to start a new demo", filepath.Join(*data, demoDir))
		}
		if *listen == "" {
			*listen = defaultListen
		}
		if err == nil {
			writeDemoBanner(c.stderr, *data, *listen, created)
		}
	default:
		return usageError{msg: "intake serve: pass --config FILE, or --demo to try it out"}
	}
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case cfg.TLS == nil && set["http-listen"]:
		return usageError{msg: "intake serve: --http-listen is for HTTPS; the config has no [tls] section"}
	case cfg.TLS == nil && set["onion-listen"]:
		return usageError{msg: "intake serve: --onion-listen is for a server that also serves HTTPS; without [tls], --listen serves the onion service"}
	case cfg.TLS == nil || *httpListen == "off":
		*httpListen = ""
	}
	if *listen == "" {
		*listen = defaultListen
		if cfg.TLS != nil {
			*listen = defaultHTTPSListen
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		// A second signal stops at once instead of waiting for uploads.
		stop()
	}()
	err = serve(ctx, cfg, serveOptions{DataDir: *data, Listen: *listen, HTTPListen: *httpListen, OnionListen: *onionListen, StaffListen: staffListen, Logger: logger, AcceptRollback: *acceptRollback, ConfigPath: *configPath, Reload: reload})
	if err != nil {
		logger.Error().Err(err).Msg("stopped with an error")
		return damageHint(err, *data)
	}
	return nil
}

// damageHint says what to do about a damaged store; deploy/README.md says
// more.
func damageHint(err error, data string) error {
	store := filepath.Join(data, storeFile)
	switch {
	case errors.Is(err, vault.ErrRollback):
		return withHint(err, "either restore the newest backup, losing everything since it was made, or accept losing only that last commit (a report, a follow-up, a reply or acknowledgements, or a few sent together): copy the file aside (cp %s %s.damaged), then start once with --accept-rollback. See \"A damaged store\" in deploy/README.md", store, store)
	case errors.Is(err, vault.ErrCorrupt):
		return withHint(err, "stop the service, move %s aside (do not delete it), copy the newest backup from backup_dir in its place, and start again. See \"A damaged store\" in deploy/README.md", store)
	}
	return err
}

func (c *cli) init(args []string) error {
	fs := flag.NewFlagSet("intake init", flag.ContinueOnError)
	configPath := fs.String("config", "", "config `file` to create (TOML)")
	data := fs.String("data", "./hearken-data", "data `directory` for the store")
	staffDir := fs.String("staff-onion-dir", "", "the staff onion service's HiddenServiceDir, like /var/lib/tor/hearken-staff/")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *configPath == "" {
		return usageError{msg: "intake init: --config FILE is required"}
	}
	inst, err := install(*configPath, *data, *staffDir)
	switch {
	case errors.Is(err, vault.ErrExists):
		return withHint(err, "edit the config that is there, or choose another --config FILE")
	case errors.Is(err, errTorPermission):
		return withHint(err, "run intake init as root: it makes the staff onion's folder for tor")
	case err != nil:
		return err
	}
	fmt.Fprintf(c.stdout, "Wrote %s and team files in %s; the store is in %s.\n", *configPath, inst.Teams, *data)
	if inst.Torrc != "" {
		fmt.Fprintf(c.stdout, "Wrote %s, the Tor configuration for this installation (see deploy/README.md).\n", inst.Torrc)
	}
	if inst.Staff != nil {
		fmt.Fprintf(c.stdout, "Made the staff onion's folder %s; intake check keeps its authorized_clients in step with the team files.\n", *staffDir)
	}
	fmt.Fprintf(c.stdout, `Next:
  1. Edit %s: the school's name, languages, emergency numbers, routes.
  2. Ask each safeguarding lead to run "reviewer keygen" on their own computer
     and send you the line in their member.pub. Put the lines in the team files.
  3. Check everything:  intake check --config %s
  4. Start the server:  intake serve --config %s --data %s
`, *configPath, *configPath, *configPath, *data)
	return nil
}

func (c *cli) check(args []string) error {
	fs := flag.NewFlagSet("intake check", flag.ContinueOnError)
	configPath := fs.String("config", "", "config `file` (TOML)")
	apply := fs.Bool("apply", false, "then put the team files into effect: reload the running server and tor (as root, with systemd)")
	unitName := fs.String("unit", "", "with --apply, the server's systemd `unit` (default: whichever of "+strings.Join(intakeUnits, ", ")+" is running)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *configPath == "" {
		return usageError{msg: "intake check: --config FILE is required"}
	}
	if *unitName != "" && !*apply {
		return usageError{msg: "intake check: --unit goes with --apply"}
	}
	cfg, err := c.readConfig(*configPath)
	if err != nil {
		return err
	}
	fmt.Fprint(c.stdout, cfg.summary())
	var a *applier
	var unit string
	if *apply {
		a = newApplier(c.stdout, *unitName)
		if unit, err = a.prepare(cfg, *configPath); err != nil {
			return err
		}
	}
	if err := c.checkStaffOnion(cfg); err != nil {
		return err
	}
	if a == nil {
		what := "the running server"
		if cfg.StaffOnionDir != "" {
			what += " and tor"
		}
		fmt.Fprintf(c.stdout, "  to put changed team files into effect in %s: intake check --config %s --apply (as root)\n", what, *configPath)
		return nil
	}
	return a.apply(cfg, unit)
}

// checkStaffOnion writes the team's onion keys where tor reads them, when
// the config names the staff onion's folder.
func (c *cli) checkStaffOnion(cfg *config) error {
	if cfg.StaffOnionDir == "" {
		return nil
	}
	res, err := syncAuthorizedClients(cfg.StaffOnionDir, cfg.teams())
	switch {
	case errors.Is(err, errTorPermission) && os.Geteuid() != 0:
		// A check of the config as the service's user (sudo -u hearken)
		// is still a check; only root may write tor's files.
		fmt.Fprintf(c.stdout, "  note: the staff onion's keys in %s were not updated: that needs root. After changing a team file, run intake check --config %s --apply as root.\n", cfg.StaffOnionDir, cfg.Path)
		return nil
	case errors.Is(err, errTorPermission):
		return withHint(err, "tor's folder %s must be writable by root; is it on a read-only file system?", cfg.StaffOnionDir)
	}
	if err != nil {
		return err
	}
	for _, l := range res.summary() {
		fmt.Fprintf(c.stdout, "  %s\n", l)
	}
	return nil
}

func (c *cli) alertTest(args []string) error {
	fs := flag.NewFlagSet("intake alert-test", flag.ContinueOnError)
	configPath := fs.String("config", "", "config `file` (TOML)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *configPath == "" {
		return usageError{msg: "intake alert-test: --config FILE is required"}
	}
	cfg, err := c.readConfig(*configPath)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), alertTestTimeout)
	defer cancel()
	err = alertTest(ctx, cfg, c.stdout)
	switch {
	case errors.Is(err, errNoAlerts):
		return withHint(err, "add an [alerts] section: the config intake init writes has one to copy, commented out")
	case errors.Is(err, errNoPassword):
		return withHint(err, "set password_file, or run it with the credential: systemd-run --pipe --wait -p User=hearken -p LoadCredential=%s:FILE intake alert-test --config %s", smtpCredential, *configPath)
	}
	return err
}

func (c *cli) backup(args []string) error {
	fs := flag.NewFlagSet("intake backup", flag.ContinueOnError)
	data := fs.String("data", "./hearken-data", "data `directory` holding the store")
	out := fs.String("out", "", "backup `file` to create (must not exist)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{msg: "intake backup: --out FILE is required"}
	}
	n, err := backupStore(*data, *out)
	switch {
	case errors.Is(err, errNoStore):
		return withHint(err, "pass the server's data directory with --data")
	case errors.Is(err, vault.ErrLocked):
		return withHint(errors.New("the server is running and holds the store"),
			"set backup_dir in its config for a verified backup every day while it runs, or stop it and run intake backup again")
	case errors.Is(err, vault.ErrExists):
		return withHint(err, "choose a new file name for --out")
	case err != nil:
		return err
	}
	fmt.Fprintf(c.stdout, "backup written and verified: %s (%d bytes)\n", *out, n)
	return nil
}

func (c *cli) retention(args []string) error {
	fs := flag.NewFlagSet("intake retention", flag.ContinueOnError)
	configPath := fs.String("config", "", "config `file` (TOML)")
	data := fs.String("data", "./hearken-data", "data `directory` holding the store")
	confirmDate := fs.Bool("confirm-date", false, "tell the store that today's date is right")
	allowLarge := fs.Bool("allow-large", false, "run retention now, even if it deletes more than a quarter of the threads")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *configPath == "" {
		return usageError{msg: "intake retention: --config FILE is required"}
	}
	cfg, err := c.readConfig(*configPath)
	if err != nil {
		return err
	}
	err = retention(c.stdout, cfg, *data, retentionCommand(*configPath, *data), *confirmDate, *allowLarge)
	switch {
	case errors.Is(err, errNoStore):
		return withHint(err, "pass the server's data directory with --data")
	case errors.Is(err, vault.ErrLocked):
		return withHint(errors.New("the server is running and holds the store"),
			"stop it (systemctl stop hearken-intake), run this again, then start it")
	}
	return damageHint(err, *data)
}

func (c *cli) repair(args []string) error {
	fs := flag.NewFlagSet("intake repair", flag.ContinueOnError)
	data := fs.String("data", "./hearken-data", "data `directory` holding the store")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	err := repair(c.stdout, *data)
	switch {
	case errors.Is(err, errNoStore):
		return withHint(err, "pass the server's data directory with --data")
	case errors.Is(err, vault.ErrLocked):
		return withHint(errors.New("the server is running and holds the store"),
			"stop it (systemctl stop hearken-intake), run this again, then start it")
	case errors.Is(err, vault.ErrCorrupt) && !errors.Is(err, vault.ErrRollback):
		return withHint(err, "restore the newest backup; see \"A damaged store\" in deploy/README.md")
	}
	return damageHint(err, *data)
}
