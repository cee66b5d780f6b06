package alert

import (
	"bytes"
	"context"
	"encoding/json"
	mrand "math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/internal/testkit"
)

// guard bounds every wait in these tests: it only turns a hang into a
// failure.
const guard = testkit.Patience

// mapDial returns a dialer that reaches the hosts in names (host:port ->
// real address) and anything else as usual: how a test reaches
// "mail.hearken.test", a name that is not loopback, on a local server.
func mapDial(names map[string]string) dialFunc {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if real, ok := names[addr]; ok {
			addr = real
		}
		return d.DialContext(ctx, network, addr)
	}
}

// fakeClock is a clock that moves only when the test sets it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

var epoch = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func newFakeClock() *fakeClock { return &fakeClock{now: epoch} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Timer(at time.Time) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ft := &fakeTimer{at: at, c: make(chan time.Time, 1)}
	if !at.After(c.now) {
		ft.c <- c.now
		return ft.c, func() {}
	}
	c.timers = append(c.timers, ft)
	return ft.c, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, x := range c.timers {
			if x == ft {
				c.timers = append(c.timers[:i], c.timers[i+1:]...)
				return
			}
		}
	}
}

// set moves the clock to now and fires the timers due by then. It returns
// how many fired: none means no waiting target was woken.
func (c *fakeClock) set(now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	fired := 0
	kept := c.timers[:0]
	for _, ft := range c.timers {
		if !ft.at.After(now) {
			ft.c <- now
			fired++
		} else {
			kept = append(kept, ft)
		}
	}
	c.timers = kept
	return fired
}

// logBuffer collects a dispatcher's log lines.
type logBuffer struct{ testkit.Buffer }

// lines returns the log lines, decoded.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// harness runs a dispatcher on a fake clock with deterministic randomness
// and collects a report each time one of its targets goes to wait.
type harness struct {
	t     *testing.T
	d     *Dispatcher
	clock *fakeClock
	logs  *logBuffer

	mu      sync.Mutex
	reports []idleReport
	more    chan struct{}
}

type idleReport struct {
	name string
	s    snapshot
}

func newHarness(t *testing.T, cfg Config, dial dialFunc) *harness {
	t.Helper()
	h := &harness{t: t, clock: newFakeClock(), logs: &logBuffer{}, more: make(chan struct{}, 1)}
	cfg.Log = zerolog.New(h.logs)
	if dial == nil {
		dial = mapDial(nil)
	}
	var seed atomic.Uint64
	d, err := newDispatcher(cfg, options{
		clock:   h.clock,
		newRand: func() *mrand.Rand { n := seed.Add(1); return mrand.New(mrand.NewPCG(n, n*7919)) },
		dial:    dial,
		idle: func(name string, s snapshot) {
			h.mu.Lock()
			h.reports = append(h.reports, idleReport{name, s})
			h.mu.Unlock()
			select {
			case h.more <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.d = d
	t.Cleanup(func() { _ = d.Shutdown(context.Background()) })
	return h
}

// waitIdle returns the first report that satisfies ok from the target
// named name: "mail" (or "webhook", "log") alone, or followed by " for " and
// the recipients it serves, as in `mail for route "head"`. That target's
// earlier reports are dropped; other targets' are kept for their turn.
func (h *harness) waitIdle(name string, ok func(snapshot) bool) snapshot {
	h.t.Helper()
	deadline := time.After(guard)
	for {
		h.mu.Lock()
		for i := 0; i < len(h.reports); i++ {
			r := h.reports[i]
			short, _, _ := strings.Cut(r.name, " for ")
			if r.name != name && short != name {
				continue
			}
			h.reports = append(h.reports[:i], h.reports[i+1:]...)
			i--
			if ok(r.s) {
				h.mu.Unlock()
				return r.s
			}
		}
		h.mu.Unlock()
		select {
		case <-h.more:
		case <-deadline:
			h.t.Fatalf("target %s never reached the expected state", name)
		}
	}
}

// stripVarying removes the headers that differ between two alerts of one
// kind, Date and Message-ID, and nothing else.
func stripVarying(t *testing.T, raw []byte) []byte {
	t.Helper()
	var out []byte
	n := 0
	for _, line := range bytes.SplitAfter(raw, []byte("\r\n")) {
		if bytes.HasPrefix(line, []byte("Date: ")) || bytes.HasPrefix(line, []byte("Message-ID: ")) {
			n++
			continue
		}
		out = append(out, line...)
	}
	if n != 2 {
		t.Fatalf("expected one Date and one Message-ID header, removed %d lines", n)
	}
	return out
}

func header(raw []byte, name string) string {
	for _, line := range strings.Split(string(raw), "\r\n") {
		if v, ok := strings.CutPrefix(line, name+": "); ok {
			return v
		}
		if line == "" {
			break
		}
	}
	return ""
}
