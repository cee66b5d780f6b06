package intake

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/vault"
)

// Timeouts for the public listener. Reporters may be on Tor, where 10 KB/s
// is a realistic upload speed: one 10 MiB attachment then takes
// 10,485,760 B / 10,240 B/s ≈ 1,024 s ≈ 17 minutes. ReadTimeout allows 30
// minutes for the whole request, so a report with a photo finishes with room
// to spare; WriteTimeout runs from the end of the headers, so it must cover
// the read plus the time to seal, store and answer.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Minute
	writeTimeout      = readTimeout + 2*time.Minute
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 32 << 10
	// shutdownGrace lets submissions in flight finish on SIGINT/SIGTERM.
	// An upload still arriving after it is cut off: it was never
	// acknowledged, so its reporter sees no receipt and knows to send again.
	// The systemd unit's TimeoutStopSec allows for it.
	shutdownGrace = 2 * time.Minute
	// alertsGrace lets an alert being delivered at shutdown finish; one
	// still waiting after it is lost, and the log says so.
	alertsGrace = 15 * time.Second
)

// storeFile is the store's file name inside the data directory.
const storeFile = "hearken.db"

// serveOptions are the settings for serve that do not come from the config.
type serveOptions struct {
	DataDir string
	// Listen is "host:port" or "unix:/path/to/socket". With the config's
	// [tls] section it serves HTTPS.
	Listen string
	// HTTPListen, with [tls], answers ACME HTTP-01 challenges and
	// redirects everything else to HTTPS; "" turns it off.
	HTTPListen string
	// OnionListen, with [tls], serves the same site in plain HTTP for the
	// onion service: a unix socket (mode 0660) or a loopback address.
	OnionListen string
	// StaffListen are the staff channel's own listeners, never beside the
	// public site: none, one, or more (the socket tor's staff onion service
	// reaches, and another for team members who come over SSH). A unix
	// socket is made mode 0660, and its group is its folder's (see
	// deploy/README.md): every request is signed by a team member as well.
	StaffListen []string
	Logger      zerolog.Logger
	// ErrorLog receives net/http's own messages. Nil discards them: they can
	// carry client addresses.
	ErrorLog *log.Logger
	// Ready, if set, is called with the listening address once serving;
	// HTTPReady with the plain-HTTP port's, before it.
	Ready, HTTPReady func(addr net.Addr)
	// AcceptRollback opens a store whose newest commit record is damaged
	// at the commit before it (vault.Options.AcceptRollback).
	AcceptRollback bool
	// ConfigPath is the config file, for the commands the log advises.
	ConfigPath string
	// Reload, when it receives, has the server read its team files again
	// (SIGHUP: systemctl reload).
	Reload <-chan os.Signal
	// drainDelay is how long after a route's staff queue empties the store
	// is compacted; zero means drainCompactDelay.
	drainDelay time.Duration
}

// openStore opens (or creates) the store in dataDir.
func openStore(dataDir string, cfg *config) (*vault.Store, error) {
	return openStoreOpts(dataDir, &vault.Options{RetentionDays: cfg.RetentionDays})
}

func openStoreOpts(dataDir string, opts *vault.Options) (*vault.Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create data directory: %w", err)
	}
	return vault.OpenStore(filepath.Join(dataDir, storeFile), opts)
}

// serve runs the public site until ctx is done, then lets submissions in
// flight finish and closes the store.
func serve(ctx context.Context, cfg *config, opts serveOptions) error {
	lg := opts.Logger
	// A route's staff queue emptied: the chores compact the store soon.
	drained := make(chan struct{}, 1)
	signalDrained := func() {
		select {
		case drained <- struct{}{}:
		default:
		}
	}
	store, err := openStoreOpts(opts.DataDir, &vault.Options{RetentionDays: cfg.RetentionDays, AcceptRollback: opts.AcceptRollback,
		Drained: signalDrained})
	if err != nil {
		return err
	}
	for _, n := range store.Notices() {
		lg.Warn().Msg(n)
	}
	logQueueHealth(lg, store, opts.DataDir)
	// The team files may have changed since the last start: items the
	// server still holds wait for members who joined, and no longer for
	// members who left.
	live := newLiveTeams(newTeamSet(cfg.teamsByRoute()))
	if joined, left, err := store.Requeue(live.load().keys); err != nil {
		lg.Error().Err(err).Msg("the staff queues could not follow the team files; members who joined get only new items until the next start")
	} else if joined+left > 0 {
		lg.Info().Int("joined", joined).Int("left", left).Msg("the staff queues follow the team files: items still held wait for members who joined, and no longer for members who left")
	}
	defer func() {
		if err := store.Close(); err != nil {
			lg.Error().Err(err).Msg("failed to close store")
		}
	}()
	alerts, err := newAlerter(cfg, lg)
	if err != nil {
		return err
	}
	// Deferred after the store's close, so it runs first, once the
	// listeners have stopped and nothing more can arrive.
	defer func() {
		actx, cancel := context.WithTimeout(context.Background(), alertsGrace)
		defer cancel()
		_ = alerts.Shutdown(actx)
	}()

	var site *httpsSite
	if cfg.TLS != nil {
		if site, err = newHTTPS(cfg, opts.DataDir, lg); err != nil {
			return err
		}
		defer site.stop()
	} else if opts.HTTPListen != "" || opts.OnionListen != "" {
		return errors.New("a plain-HTTP or onion listener beside the public one needs HTTPS: add a [tls] section to the config")
	}
	if opts.OnionListen != "" && !localAddr(opts.OnionListen) {
		return fmt.Errorf("onion listener: %s is not unix:/path or a loopback host:port; tor reaches it on this machine", opts.OnionListen)
	}

	// The public socket is mode 0660: the onion service's group reads it.
	ln, err := listen(opts.Listen, 0o660)
	if err != nil {
		return err
	}
	var httpLn, onionLn net.Listener
	if site != nil && opts.HTTPListen != "" {
		if httpLn, err = listen(opts.HTTPListen, 0o660); err != nil {
			ln.Close()
			return fmt.Errorf("http listener: %w", err)
		}
	}
	if site != nil && opts.OnionListen != "" {
		if onionLn, err = listen(opts.OnionListen, 0o660); err != nil {
			closeListeners(ln, httpLn)
			return fmt.Errorf("onion listener: %w", err)
		}
	}
	staffLns, err := staffListeners(opts.StaffListen)
	if err != nil {
		closeListeners(ln, httpLn, onionLn)
		return err
	}

	retentionDone := make(chan struct{})
	retentionCtx, stopRetention := context.WithCancel(context.Background())
	go func() {
		defer close(retentionDone)
		delay := opts.drainDelay
		if delay == 0 {
			delay = drainCompactDelay
		}
		maintain(retentionCtx, store, cfg, lg, opts.DataDir, retentionCommand(opts.ConfigPath, opts.DataDir), drained, delay)
	}()
	defer func() {
		stopRetention()
		<-retentionDone
	}()

	errorLog := quietErrorLog(opts.ErrorLog)
	pub := newServer(cfg, store, lg)
	pub.alerts = alerts
	pub.teams = live
	staffH := newStaffHandler(store, live, lg)
	reloader := &teamReload{cfg: cfg, live: live, verifier: staffH.verifier, store: store, drained: signalDrained, log: lg}
	srv := &http.Server{
		Handler:           pub,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          errorLog,
	}
	served := make(chan error, 3+len(staffLns))
	servers := []*http.Server{srv}
	if site != nil {
		site.configure(srv)
		go func() { served <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { served <- srv.Serve(ln) }()
	}
	lg.Info().Str("listen", ln.Addr().String()).Bool("https", site != nil).Str("school", cfg.School).Int("routes", len(cfg.Routes)).Msg("serving")
	if httpLn != nil {
		httpSrv := site.httpServer(pub, ln.Addr(), errorLog)
		servers = append(servers, httpSrv)
		go func() { served <- httpSrv.Serve(httpLn) }()
		lg.Info().Str("listen", httpLn.Addr().String()).Msg("serving plain HTTP: redirects to HTTPS and ACME challenges")
		if opts.HTTPReady != nil {
			opts.HTTPReady(httpLn.Addr())
		}
	}
	if onionLn != nil {
		// The same site, without HSTS: tor has encrypted the way already.
		onionSrv := &http.Server{
			Handler:           pub,
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          errorLog,
		}
		servers = append(servers, onionSrv)
		go func() { served <- onionSrv.Serve(onionLn) }()
		lg.Info().Str("listen", onionLn.Addr().String()).Msg("serving the onion service's plain HTTP")
	}
	if len(staffLns) > 0 {
		staffSrv := &http.Server{
			Handler:           staffH.routes(),
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       5 * time.Minute,
			WriteTimeout:      6 * time.Minute,
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          errorLog,
		}
		servers = append(servers, staffSrv)
		for _, l := range staffLns {
			go func() { served <- staffSrv.Serve(l) }()
			lg.Info().Str("listen", l.Addr().String()).Msg("serving the staff channel")
		}
	}
	if site != nil {
		site.start()
	}
	if opts.Ready != nil {
		opts.Ready(ln.Addr())
	}

	var serveErr error
wait:
	for {
		select {
		case err := <-served:
			serveErr = fmt.Errorf("failed to serve: %w", err)
			break wait
		case <-ctx.Done():
			lg.Info().Msg("shutting down: waiting for submissions in progress")
			break wait
		case <-opts.Reload:
			reloader.reload()
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil {
			lg.Error().Err(err).Msg("shutdown did not finish cleanly")
		}
	}
	if serveErr != nil {
		return serveErr
	}
	lg.Info().Msg("stopped")
	return nil
}

// staffListeners opens the staff channel's listeners, or none of them.
func staffListeners(addrs []string) ([]net.Listener, error) {
	var lns []net.Listener
	fail := func(err error) ([]net.Listener, error) {
		for _, l := range lns {
			l.Close()
		}
		return nil, err
	}
	for _, a := range addrs {
		if err := checkStaffAddr(a); err != nil {
			return fail(err)
		}
		l, err := listen(a, 0o660)
		if err != nil {
			return fail(fmt.Errorf("staff channel: %w", err))
		}
		lns = append(lns, l)
	}
	return lns, nil
}

// checkStaffAddr allows the staff channel on a unix socket or a loopback
// address only: team members reach it through SSH or Tor, never directly.
func checkStaffAddr(addr string) error {
	if strings.HasPrefix(addr, "unix:") {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("staff channel: %q is not host:port or unix:/path", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("staff channel: %s is not a loopback address; use unix:/path or 127.0.0.1:PORT", host)
	}
	return nil
}

// listen opens "host:port" or "unix:/path". A unix socket is made with
// mode; a socket file left by a process that died is replaced, but one
// that still answers is not.
func listen(addr string, mode os.FileMode) (net.Listener, error) {
	path, ok := strings.CutPrefix(addr, "unix:")
	if !ok {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("failed to listen: %w", err)
		}
		return ln, nil
	}
	if path == "" {
		return nil, errors.New("failed to listen: unix: needs a socket path")
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			return nil, fmt.Errorf("failed to listen: %s exists and is not a socket", path)
		}
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return nil, fmt.Errorf("failed to listen: something is already listening on %s", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("failed to remove stale socket: %w", err)
		}
	}
	// The umask makes the socket with its final mode, so there is no moment
	// when it is more open. Umask is process-wide; nothing else creates
	// files while the server starts.
	old := syscall.Umask(int(^mode & 0o777))
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("failed to listen: %w", err)
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("failed to set socket mode: %w", err)
	}
	return ln, nil
}

// errNoStore means the data directory holds no store.
var errNoStore = errors.New("no store")

// backupStore writes a verified copy of the store in dataDir to out. An
// existing out gives vault.ErrExists; a missing store, errNoStore.
func backupStore(dataDir, out string) (int64, error) {
	path := filepath.Join(dataDir, storeFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%w in %s", errNoStore, dataDir)
	} else if err != nil {
		return 0, fmt.Errorf("failed to open store: %w", err)
	}
	store, err := vault.OpenStore(path, &vault.Options{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer store.Close()
	n, err := store.BackupFile(out)
	if errors.Is(err, vault.ErrExists) {
		return 0, fmt.Errorf("%s: %w", out, err)
	}
	return n, err
}

func closeListeners(lns ...net.Listener) {
	for _, ln := range lns {
		if ln != nil {
			ln.Close()
		}
	}
}

// localAddr reports whether addr is a unix socket or a loopback host:port.
func localAddr(addr string) bool {
	if strings.HasPrefix(addr, "unix:") {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}
