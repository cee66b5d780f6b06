package alert

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// clock is the time a target runs by; tests drive a fake one.
type clock interface {
	Now() time.Time
	// Timer returns a channel that receives once the clock reaches at, and
	// a function that releases the timer.
	Timer(at time.Time) (<-chan time.Time, func())
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Timer(at time.Time) (<-chan time.Time, func()) {
	t := time.NewTimer(time.Until(at))
	return t.C, func() { t.Stop() }
}

// deliverFunc sends one alert of kind k, stamped now.
type deliverFunc func(ctx context.Context, k kind, now time.Time) error

// target is one destination (a set of mail recipients, a webhook, or the
// log) with its own goroutine, schedule and retries, so a slow server holds
// up nobody else's alerts.
type target struct {
	name    string   // for SendTest's errors: "mail", "webhook" or "log"
	labels  []string // the recipients it serves, for SendTest's errors
	deliver deliverFunc
	clock   clock
	log     zerolog.Logger
	sched   *schedule

	mu       sync.Mutex
	inAct    bool // posted by Activity, not yet taken by the loop
	inDanger bool
	wake     chan struct{}

	// idle, if set, is called each time the loop waits (tests).
	idle func(snapshot)
}

// snapshot is a target's state as the loop goes to wait.
type snapshot struct {
	now, next        time.Time
	activity, danger bool
	attempts         int
	sent             [numKinds]int
}

func newTarget(name string, deliver deliverFunc, c clock, rnd *rand.Rand, every time.Duration, log zerolog.Logger) *target {
	return &target{
		name:    name,
		deliver: deliver,
		clock:   c,
		log:     log,
		sched:   newSchedule(every, c.Now(), rnd),
		wake:    make(chan struct{}, 1),
	}
}

func (t *target) post(k kind) {
	t.mu.Lock()
	if k == kindDanger {
		t.inDanger = true
	} else {
		t.inAct = true
	}
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// take moves what was posted into the schedule.
func (t *target) take(now time.Time) {
	t.mu.Lock()
	act, danger := t.inAct, t.inDanger
	t.inAct, t.inDanger = false, false
	t.mu.Unlock()
	if act {
		t.sched.addActivity(now)
	}
	if danger {
		t.sched.addDanger()
	}
}

// run sends alerts as they fall due until stop is closed, and reports
// whether one was still waiting then. ctx bounds each delivery.
func (t *target) run(ctx context.Context, stop <-chan struct{}) (lost bool) {
	var sent [numKinds]int
	for {
		now := t.clock.Now()
		t.take(now)
		danger, activity := t.sched.due(now)
		if danger || activity {
			// Danger first; after a failure both wait for the retry.
			if (!danger || t.attempt(ctx, kindDanger, &sent)) && activity {
				t.attempt(ctx, kindActivity, &sent)
			}
			select {
			case <-stop:
				t.take(t.clock.Now())
				return t.sched.pending()
			default:
				continue
			}
		}
		next := t.sched.next()
		if t.idle != nil {
			t.idle(snapshot{now: now, next: next, activity: t.sched.activity, danger: t.sched.danger, attempts: t.sched.attempts, sent: sent})
		}
		var timer <-chan time.Time
		release := func() {}
		if !next.IsZero() {
			timer, release = t.clock.Timer(next)
		}
		select {
		case <-timer:
		case <-t.wake:
		case <-stop:
			release()
			t.take(t.clock.Now())
			return t.sched.pending()
		}
		release()
	}
}

// attempt delivers one alert and records the outcome; it reports success.
func (t *target) attempt(ctx context.Context, k kind, sent *[numKinds]int) bool {
	err := t.deliver(ctx, k, t.clock.Now())
	now := t.clock.Now()
	if err != nil {
		t.sched.failed(now)
		if ctx.Err() != nil {
			return false // cut off by shutdown: the line saying an alert was lost says it all
		}
		ev := t.log.Warn().Str("class", classOf(err)).Int("attempt", t.sched.attempts)
		if f, ok := err.(*failure); ok && f.code != 0 {
			ev = ev.Int("code", f.code)
		}
		ev.Msg("alert not delivered; will retry")
		return false
	}
	if t.sched.attempts > 0 {
		t.log.Info().Int("attempts", t.sched.attempts+1).Msg("alert delivered after retrying")
	}
	t.sched.sent(k, now)
	sent[k]++
	return true
}

func classOf(err error) string {
	if f, ok := err.(*failure); ok {
		return f.class
	}
	return "internal"
}
