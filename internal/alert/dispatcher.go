package alert

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// Dispatcher sends a deployment's alerts. Its methods may be called from
// any goroutine; those of a nil *Dispatcher do nothing, so a server with no
// alerts configured can call them all the same.
type Dispatcher struct {
	routes  map[string][]*target
	def     []*target
	targets []*target
	logLost func()

	stop     chan struct{}
	stopOnce sync.Once
	// sendCtx bounds deliveries; Shutdown cancels it when its own context
	// is done.
	sendCtx context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	lost    chan bool
}

// options are the seams tests use.
type options struct {
	clock   clock
	newRand func() *rand.Rand
	dial    dialFunc
	idle    func(name string, s snapshot)
}

// New checks cfg and starts the dispatcher. Call Shutdown to stop it.
func New(cfg Config) (*Dispatcher, error) {
	var d net.Dialer
	return newDispatcher(cfg, options{clock: realClock{}, newRand: cryptoRand, dial: d.DialContext})
}

func cryptoRand() *rand.Rand {
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	return rand.New(rand.NewChaCha8(seed))
}

func newDispatcher(cfg Config, o options) (*Dispatcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid alerts config: %w", err)
	}
	if cfg.Every == 0 {
		cfg.Every = DefaultEvery
	}
	d := &Dispatcher{routes: map[string][]*target{}, stop: make(chan struct{})}
	d.sendCtx, d.cancel = context.WithCancel(context.Background())
	d.logLost = func() {
		cfg.Log.Error().Msg("an alert was waiting to be sent and is lost; the team should run reviewer sync")
	}
	texts := newTexts(cfg.School)
	newT := func(name string, deliver deliverFunc) *target {
		t := newTarget(name, deliver, o.clock, o.newRand(), cfg.Every, cfg.Log)
		if o.idle != nil {
			t.idle = func(s snapshot) { o.idle(t.name+" for "+strings.Join(t.labels, ", "), s) }
		}
		d.targets = append(d.targets, t)
		return t
	}

	if cfg.LogOnly {
		t := newT("log", func(_ context.Context, k kind, _ time.Time) error {
			cfg.Log.Info().Str("kind", k.String()).Msg("alert sent")
			return nil
		})
		t.labels = []string{"the log"}
		d.def = []*target{t}
	} else {
		srv, _ := parseServer(cfg.SMTP) // checked by Validate
		dial := viaSockets(o.dial, cfg.Sockets)
		byKey := map[string]*target{}
		targetsOf := func(r Recipients, label string) []*target {
			var ts []*target
			if len(r.To) > 0 {
				to := slices.Clone(r.To)
				slices.Sort(to)
				to = slices.Compact(to)
				key := "mail " + strings.ToLower(strings.Join(to, ","))
				if byKey[key] == nil {
					m := newMailer(cfg.From, to, cfg.School)
					s := &smtpSender{server: srv, username: cfg.Username, password: cfg.Password,
						from: cfg.From, to: to, roots: cfg.RootCAs, dial: dial}
					byKey[key] = newT("mail", func(ctx context.Context, k kind, now time.Time) error {
						return s.send(ctx, m.mail(k, now))
					})
				}
				byKey[key].labels = append(byKey[key].labels, label)
				ts = append(ts, byKey[key])
			}
			if r.Webhook != "" {
				key := "webhook " + r.Webhook
				if byKey[key] == nil {
					u, _ := parseWebhook(r.Webhook)
					w := newWebhookSender(u, cfg.RootCAs, dial)
					byKey[key] = newT("webhook", func(ctx context.Context, k kind, _ time.Time) error {
						return w.send(ctx, webhookBody(&texts, k))
					})
				}
				byKey[key].labels = append(byKey[key].labels, label)
				ts = append(ts, byKey[key])
			}
			return ts
		}
		d.def = targetsOf(cfg.Default, "the default recipients")
		names := make([]string, 0, len(cfg.Routes))
		for name := range cfg.Routes {
			names = append(names, name)
		}
		slices.Sort(names) // one order of targets, for SendTest's report
		for _, name := range names {
			d.routes[name] = targetsOf(cfg.Routes[name], fmt.Sprintf("route %q", name))
		}
	}

	d.lost = make(chan bool, len(d.targets))
	for _, t := range d.targets {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.lost <- t.run(d.sendCtx, d.stop)
		}()
	}
	return d, nil
}

func (d *Dispatcher) targetsFor(route string) []*target {
	if ts, ok := d.routes[route]; ok {
		return ts
	}
	return d.def
}

// Activity says that a report or follow-up arrived on route. Its recipients
// get the activity alert at their next tick.
func (d *Dispatcher) Activity(route string) {
	if d == nil {
		return
	}
	for _, t := range d.targetsFor(route) {
		t.post(kindActivity)
	}
}

// Danger says that a report on route says someone may be in danger now. Its
// recipients get the danger alert at once. It does not imply Activity.
func (d *Dispatcher) Danger(route string) {
	if d == nil {
		return
	}
	for _, t := range d.targetsFor(route) {
		t.post(kindDanger)
	}
}

// SendTest sends the test alert to every destination now, once each, and
// reports every failure by destination and class.
func (d *Dispatcher) SendTest(ctx context.Context) error {
	if d == nil {
		return errors.New("alerts are not configured")
	}
	var errs []error
	for _, t := range d.targets {
		if err := t.deliver(ctx, kindTest, time.Now()); err != nil {
			errs = append(errs, fmt.Errorf("%s for %s: %w", t.name, strings.Join(t.labels, ", "), err))
		}
	}
	return errors.Join(errs...)
}

// Shutdown stops the dispatcher. A delivery under way may finish until ctx
// is done; an alert still waiting then is lost, and one log line says so
// (with nothing else: not its kind, not how many).
func (d *Dispatcher) Shutdown(ctx context.Context) error {
	if d == nil {
		return nil
	}
	d.stopOnce.Do(func() { close(d.stop) })
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		d.cancel()
		<-done
		err = ctx.Err()
	}
	d.cancel()
	lost := false
	for len(d.lost) > 0 {
		lost = <-d.lost || lost
	}
	if lost {
		d.logLost()
	}
	return err
}
