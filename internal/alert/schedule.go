package alert

import (
	"math/rand/v2"
	"time"
)

// Retry and spacing. A failed delivery is retried after about retryBase,
// doubling each time up to retryMax, each wait drawn from its upper half so
// that retries do not fall into step. Danger alerts to the same recipients
// are at least dangerGap apart, so a flood of danger reports is one mail a
// minute, not one a report.
const (
	retryBase = 5 * time.Second
	retryMax  = 5 * time.Minute
	dangerGap = time.Minute
)

// schedule decides when one set of recipients is alerted. It is plain state,
// driven by the times it is given, so tests can run it through thousands of
// windows at once.
//
// Time is cut into windows of length every from origin. Each window has one
// tick, drawn uniformly inside it the first time it is needed, and drawn
// independently of anything that arrives. Activity is announced at the first
// tick after it arrives, and at most once per window, so what an observer of
// the alerts learns is that something arrived since the previous tick.
type schedule struct {
	every  time.Duration
	origin time.Time
	rnd    *rand.Rand
	ticks  map[int64]time.Time // window index -> its tick; only current ones kept

	activity   bool      // activity not yet announced
	activityAt time.Time // the tick at which to announce it
	sentWindow int64     // the window of the last activity alert, -1 if none

	danger     bool // a danger alert waits; never stored anywhere else
	lastDanger time.Time

	retryAt  time.Time // no attempt before this after a failure
	attempts int       // failures in a row
}

func newSchedule(every time.Duration, origin time.Time, rnd *rand.Rand) *schedule {
	return &schedule{every: every, origin: origin, rnd: rnd, ticks: map[int64]time.Time{}, sentWindow: -1}
}

func (s *schedule) window(t time.Time) int64 {
	if t.Before(s.origin) {
		return 0
	}
	return int64(t.Sub(s.origin) / s.every)
}

// tick returns window k's tick, drawing it the first time.
func (s *schedule) tick(k int64) time.Time {
	if t, ok := s.ticks[k]; ok {
		return t
	}
	for old := range s.ticks {
		if old < k-1 {
			delete(s.ticks, old)
		}
	}
	t := s.origin.Add(time.Duration(k)*s.every + time.Duration(s.rnd.Int64N(int64(s.every))))
	s.ticks[k] = t
	return t
}

// tickAfter returns the first tick strictly after now, in a window without
// an activity alert yet.
func (s *schedule) tickAfter(now time.Time) time.Time {
	k := s.window(now)
	if k == s.sentWindow || !s.tick(k).After(now) {
		k++
	}
	return s.tick(k)
}

func (s *schedule) addActivity(now time.Time) {
	if !s.activity {
		s.activity, s.activityAt = true, s.tickAfter(now)
	}
}

func (s *schedule) addDanger() {
	s.danger = true
	// Try at once even while backing off: the server may be back.
	s.retryAt = time.Time{}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// due says what to send now.
func (s *schedule) due(now time.Time) (danger, activity bool) {
	danger = s.danger && !now.Before(later(s.lastDanger.Add(dangerGap), s.retryAt))
	activity = s.activity && !now.Before(later(s.activityAt, s.retryAt))
	if activity && s.window(now) == s.sentWindow {
		// Woken late into a window that already had its alert.
		s.activityAt, activity = s.tickAfter(now), false
	}
	return danger, activity
}

// next returns when something may next be due; zero if nothing waits.
func (s *schedule) next() time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if s.danger {
		consider(later(s.lastDanger.Add(dangerGap), s.retryAt))
	}
	if s.activity {
		consider(later(s.activityAt, s.retryAt))
	}
	return next
}

func (s *schedule) sent(k kind, now time.Time) {
	switch k {
	case kindDanger:
		s.danger, s.lastDanger = false, now
	case kindActivity:
		s.activity, s.sentWindow = false, s.window(now)
	}
	s.attempts, s.retryAt = 0, time.Time{}
}

func (s *schedule) failed(now time.Time) {
	s.attempts++
	d := retryMax
	if s.attempts < 16 {
		d = min(retryBase<<(s.attempts-1), retryMax)
	}
	s.retryAt = now.Add(d/2 + time.Duration(s.rnd.Int64N(int64(d/2)+1)))
}

// pending says whether an alert waits.
func (s *schedule) pending() bool { return s.activity || s.danger }
