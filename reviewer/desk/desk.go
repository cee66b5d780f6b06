package desk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

// Options configure a desk.
type Options struct {
	// Store is the member's store folder; Identity their identity file.
	Store, Identity string
	// IdleLock is how long the desk stays unlocked without use (default
	// 15 minutes).
	IdleLock time.Duration
	// SyncEvery is how often the desk syncs while it is unlocked (default
	// 5 minutes; negative for never, except when asked).
	SyncEvery time.Duration
	// Lang is the language of the guidance texts (default "en"): one of
	// Languages.
	Lang string
}

const (
	defaultIdleLock  = 15 * time.Minute
	defaultSyncEvery = 5 * time.Minute
)

// ErrWrongPassphrase means the passphrase did not open the identity file.
var ErrWrongPassphrase = errors.New("that passphrase does not open your identity; passphrases are case-sensitive")

// Desk is one running desk: its session, its lock and, while unlocked, the
// member and their open store.
type Desk struct {
	opts Options
	now  func() time.Time

	// mu guards the session: the one-time token, the session it became,
	// and the time of the lead's last request.
	mu         sync.Mutex
	token      []byte
	sess       *session
	lastActive time.Time
	hosts      []string // Host headers the desk answers to

	// state guards the unlocked state. Handlers and the syncer hold it
	// for reading while they use the store; lock and unlock hold it for
	// writing.
	state sync.RWMutex
	open  *unlocked // nil while locked
	// isOpen mirrors open != nil for pages that only say whether the desk
	// is locked: a handler already holding state must not take it again.
	unlocking sync.Mutex
	isOpen    atomic.Bool
	everOpen  atomic.Bool // unlocked at least once: the lock page says "locked"

	syncer syncer
	pages  *pages
}

// unlocked is what the desk holds only while it is unlocked: dropping it
// is what locking means.
type unlocked struct {
	m     *vault.Member
	st    *cases.Store // nil when there is no store yet and no server to make one for
	cache *caseCache
}

// New returns a locked desk.
func New(opts Options) (*Desk, error) {
	if opts.Store == "" || opts.Identity == "" {
		return nil, errors.New("the desk needs a store folder and an identity file")
	}
	if opts.IdleLock <= 0 {
		opts.IdleLock = defaultIdleLock
	}
	if opts.SyncEvery == 0 {
		opts.SyncEvery = defaultSyncEvery
	}
	if opts.Lang == "" {
		opts.Lang = "en"
	}
	if err := CheckLang(opts.Store, opts.Lang); err != nil {
		return nil, err
	}
	tok, err := randomBytes()
	if err != nil {
		return nil, err
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	d := &Desk{opts: opts, now: time.Now, token: tok, pages: p}
	d.syncer.d = d
	return d, nil
}

// Unlock opens the identity file with passphrase and the case store with
// the identity. The passphrase goes nowhere else.
func (d *Desk) Unlock(passphrase string) error {
	// One at a time: a second unlock sent while the first works would find
	// the store held by the first.
	d.unlocking.Lock()
	defer d.unlocking.Unlock()
	if !d.locked() {
		return nil
	}
	m, err := vault.LoadMember(d.opts.Identity, passphrase)
	if errors.Is(err, vault.ErrWrongPassphrase) {
		return ErrWrongPassphrase
	}
	if err != nil {
		return err
	}
	cfg, err := cases.LoadConfig(d.opts.Store)
	if err != nil {
		return err
	}
	// A store is made only where a sync will fill it, as reviewer sync
	// does; otherwise the desk shows how to set one up.
	st, err := cases.Open(d.opts.Store, m, cfg.Server != "")
	switch {
	case errors.Is(err, cases.ErrNoStore):
		st = nil
	case err != nil:
		return err
	}
	d.state.Lock()
	if d.open != nil && d.open.st != nil {
		d.open.st.Close()
	}
	d.open = &unlocked{m: m, st: st, cache: newCaseCache()}
	d.isOpen.Store(true)
	d.everOpen.Store(true)
	d.state.Unlock()
	d.mu.Lock()
	d.lastActive = d.now()
	d.mu.Unlock()
	if st != nil && d.opts.SyncEvery > 0 {
		d.syncer.start()
	}
	return nil
}

// lock drops the member, the store and every decrypted cache. A sync in
// progress is stopped first.
func (d *Desk) lock() {
	d.syncer.stop()
	d.state.Lock()
	defer d.state.Unlock()
	if d.open == nil {
		return
	}
	if d.open.st != nil {
		d.open.st.Close()
	}
	d.open.cache.drop()
	d.open = nil
	d.isOpen.Store(false)
}

// locked reports whether the desk is locked.
func (d *Desk) locked() bool { return !d.isOpen.Load() }

// lockIfIdle locks the desk when the lead has made no request for the
// idle period. Every request calls it first, and so does a ticker, so the
// desk locks on time even when nobody asks.
func (d *Desk) lockIfIdle() {
	d.mu.Lock()
	idle := !d.lastActive.IsZero() && d.now().Sub(d.lastActive) >= d.opts.IdleLock
	d.mu.Unlock()
	if idle && !d.locked() {
		d.lock()
	}
}

// touch records a request by the lead: the idle period starts again.
func (d *Desk) touch() {
	d.mu.Lock()
	d.lastActive = d.now()
	d.mu.Unlock()
}

// Listen listens on addr, which must be a loopback address such as
// 127.0.0.1:8450 (port 0 picks a free port). Any other address is
// refused: the desk must never be reachable from the network.
func Listen(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--listen takes a loopback address and port, like 127.0.0.1:8450")
	}
	ip := net.ParseIP(host)
	if host == "localhost" {
		ip = net.IPv4(127, 0, 0, 1)
	}
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("the desk listens on this computer only: --listen must be a loopback address such as 127.0.0.1:8450, not %q", host)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), port))
	if err != nil {
		return nil, fmt.Errorf("failed to listen: %w", err)
	}
	return ln, nil
}

// Serve answers on ln until ctx ends, after printing the address to open
// (with the one-time token) as one line on out.
func (d *Desk) Serve(ctx context.Context, ln net.Listener, out interface{ Write([]byte) (int, error) }) error {
	addr := ln.Addr().(*net.TCPAddr)
	d.setHosts(addr)
	srv := &http.Server{
		Handler:           d.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          discardLog,
	}
	if _, err := fmt.Fprintf(out, "%s\n", d.startURL()); err != nil {
		return err
	}
	stopTicks := d.ticks(ctx)
	defer stopTicks()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		d.lock()
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shut)
	d.lock()
	return nil
}

// ticks runs the idle check and the periodic sync until ctx ends or the
// returned function is called.
func (d *Desk) ticks(ctx context.Context) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		check := time.NewTicker(min(d.opts.IdleLock/4, 15*time.Second))
		defer check.Stop()
		var syncC <-chan time.Time
		if d.opts.SyncEvery > 0 {
			t := time.NewTicker(d.opts.SyncEvery)
			defer t.Stop()
			syncC = t.C
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-check.C:
				d.lockIfIdle()
			case <-syncC:
				if !d.locked() {
					d.syncer.start()
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
