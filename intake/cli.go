package intake

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/vault"
)

const usage = `Usage:
  intake init --config FILE [--data DIR]
  intake serve [--data DIR] [--listen ADDR] [--staff-listen ADDR] (--config FILE | --demo)
  intake check --config FILE
  intake backup [--data DIR] --out FILE

init    writes a commented config, team files to fill in, and an empty store.
serve   runs the public site. ADDR is host:port or unix:/path/to/socket.
        --staff-listen is where the team's reviewer syncs from: by default
        the socket DATA/staff.sock (mode 0600); a loopback host:port is
        allowed; "off" turns it off. It is never on the public listener.
        --demo makes a throwaway team so you can try it out.
check   checks a config file and the team files it names.
backup  writes a verified copy of the store to a new file.
`

// Main runs the intake command line and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "init":
		return initCmd(args[1:], stdout, stderr)
	case "check":
		return check(args[1:], stdout, stderr)
	case "backup":
		return backup(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "intake: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("intake "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func serve(args []string, stderr io.Writer) int {
	fs := newFlags("serve", stderr)
	data := fs.String("data", "./hearken-data", "data `directory` for the store")
	listen := fs.String("listen", "127.0.0.1:8080", "`address`: host:port or unix:/path")
	staffListen := fs.String("staff-listen", "", "`address` for the staff channel: unix:/path or loopback host:port (default unix:DATA/staff.sock; \"off\" turns it off)")
	config := fs.String("config", "", "config `file` (TOML)")
	demo := fs.Bool("demo", false, "run with a throwaway demo team")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return 2
	}
	switch *staffListen {
	case "":
		*staffListen = "unix:" + filepath.Join(*data, "staff.sock")
	case "off":
		*staffListen = ""
	}
	// No timestamps: a request line stamped to the second would record when
	// a report arrived. The service manager stamps lifecycle lines itself.
	logger := zerolog.New(stderr)

	var cfg *Config
	var err error
	switch {
	case *config != "":
		cfg, err = LoadConfig(*config)
		if *demo && err == nil {
			logger.Warn().Msg("--demo ignored: the config names the teams")
		}
	case *demo:
		var created bool
		cfg, created, err = DemoConfig(*data)
		if err == nil {
			WriteDemoBanner(stderr, *data, *listen, created)
		}
	default:
		fmt.Fprintln(stderr, "intake serve: pass --config FILE, or --demo to try it out")
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "intake: %v\n", err)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		// A second signal stops at once instead of waiting for uploads.
		stop()
	}()
	if err := Serve(ctx, cfg, ServeOptions{DataDir: *data, Listen: *listen, StaffListen: *staffListen, Logger: logger}); err != nil {
		logger.Error().Err(err).Msg("stopped with an error")
		fmt.Fprintf(stderr, "intake: %v\n", err)
		return 1
	}
	return 0
}

func initCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("init", stderr)
	config := fs.String("config", "", "config `file` to create (TOML)")
	data := fs.String("data", "./hearken-data", "data `directory` for the store")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return 2
	}
	if *config == "" {
		fmt.Fprintln(stderr, "intake init: --config FILE is required")
		return 2
	}
	if err := Init(*config, *data, stdout); err != nil {
		fmt.Fprintf(stderr, "intake: %v\n", err)
		return 1
	}
	return 0
}

func check(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", stderr)
	config := fs.String("config", "", "config `file` (TOML)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return 2
	}
	if *config == "" {
		fmt.Fprintln(stderr, "intake check: --config FILE is required")
		return 2
	}
	cfg, err := LoadConfig(*config)
	if err != nil {
		fmt.Fprintf(stderr, "intake: %v\n", err)
		return 1
	}
	fmt.Fprint(stdout, cfg.Summary())
	return 0
}

func backup(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("backup", stderr)
	data := fs.String("data", "./hearken-data", "data `directory` holding the store")
	out := fs.String("out", "", "backup `file` to create (must not exist)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return 2
	}
	if *out == "" {
		fmt.Fprintln(stderr, "intake backup: --out FILE is required")
		return 2
	}
	n, err := Backup(*data, *out)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(stderr, "intake: no store in %s\n", *data)
			return 1
		}
		if errors.Is(err, vault.ErrLocked) {
			fmt.Fprintf(stderr, "intake: the server is running and holds the store. Set backup_dir in its config for a verified backup every day while it runs, or stop it and run intake backup again.\n")
			return 1
		}
		fmt.Fprintf(stderr, "intake: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "backup written and verified: %s (%d bytes)\n", *out, n)
	return 0
}
