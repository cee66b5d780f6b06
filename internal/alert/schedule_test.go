package alert

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// simulate drives a schedule through arrivals (sorted times) as the target's
// loop would, with every delivery succeeding, and returns the send times.
func simulate(t *testing.T, s *schedule, arrivals []time.Time, end time.Time) []time.Time {
	t.Helper()
	var sends []time.Time
	flush := func(until time.Time) {
		for {
			next := s.next()
			if next.IsZero() || next.After(until) {
				return
			}
			if _, act := s.due(next); act {
				if tick := s.tick(s.window(next)); !tick.Equal(next) {
					t.Fatalf("alert at %v, not at its window's tick %v", next, tick)
				}
				s.sent(kindActivity, next)
				sends = append(sends, next)
			}
		}
	}
	for _, a := range arrivals {
		flush(a)
		s.addActivity(a)
	}
	flush(end)
	return sends
}

func randomArrivals(rnd *rand.Rand, start time.Time, every time.Duration, windows int, perWindow float64) []time.Time {
	var out []time.Time
	t := start
	end := start.Add(time.Duration(windows) * every)
	for {
		// Exponential gaps: arrivals at random, perWindow on average.
		t = t.Add(time.Duration(rnd.ExpFloat64() / perWindow * float64(every)))
		if !t.Before(end) {
			return out
		}
		out = append(out, t)
	}
}

// TestScheduleBatches runs thousands of windows of random arrivals and
// checks the promises: at most one activity alert per window, each at its
// window's tick, each arrival announced by the first tick after it, and so
// within two windows.
func TestScheduleBatches(t *testing.T) {
	const every = time.Hour
	const windows = 4000
	rnd := rand.New(rand.NewPCG(1, 2))
	s := newSchedule(every, epoch, rand.New(rand.NewPCG(3, 4)))
	arrivals := randomArrivals(rnd, epoch, every, windows, 1.5)
	sends := simulate(t, s, arrivals, epoch.Add((windows+2)*every))
	if len(sends) < windows/2 {
		t.Fatalf("only %d alerts for %d arrivals", len(sends), len(arrivals))
	}
	perWindow := map[int64]int{}
	for _, at := range sends {
		k := s.window(at)
		perWindow[k]++
		if perWindow[k] > 1 {
			t.Fatalf("two activity alerts in window %d", k)
		}
	}
	// Every arrival is announced by the first alert after it.
	j := 0
	for _, a := range arrivals {
		for j < len(sends) && !sends[j].After(a) {
			j++
		}
		if j == len(sends) {
			t.Fatalf("arrival at %v never announced", a)
		}
		if lat := sends[j].Sub(a); lat <= 0 || lat >= 2*every {
			t.Fatalf("arrival at %v announced after %v", a, lat)
		}
	}
}

// TestScheduleSendTimeIsUniform checks that where an alert falls inside its
// window does not depend on when the activity arrived: arrivals always just
// after a window opens and always just before it closes both give alerts
// spread evenly over the window.
func TestScheduleSendTimeIsUniform(t *testing.T) {
	const every = time.Hour
	const windows = 3000
	for _, tc := range []struct {
		name   string
		offset time.Duration
	}{
		{"arrivals early in the window", time.Second},
		{"arrivals late in the window", every - time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSchedule(every, epoch, rand.New(rand.NewPCG(5, 6)))
			var arrivals []time.Time
			for k := range windows {
				if k%2 == 0 { // every other window, so each has its own alert
					arrivals = append(arrivals, epoch.Add(time.Duration(k)*every+tc.offset))
				}
			}
			sends := simulate(t, s, arrivals, epoch.Add((windows+2)*every))
			var bins [10]int
			sum := 0.0
			for _, at := range sends {
				f := float64(at.Sub(epoch)%every) / float64(every)
				bins[int(f*10)]++
				sum += f
			}
			n := float64(len(sends))
			if n < windows/2-1 {
				t.Fatalf("%d alerts for %d arrivals", len(sends), len(arrivals))
			}
			if mean := sum / n; math.Abs(mean-0.5) > 0.03 {
				t.Errorf("mean position in the window %.3f, want about 0.5", mean)
			}
			for i, b := range bins {
				if f := float64(b) / n; f < 0.07 || f > 0.13 {
					t.Errorf("tenth %d of the window holds %.3f of the alerts, want about 0.1 (%v)", i, f, bins)
				}
			}
		})
	}
}

func TestScheduleArrivalAfterTickWaitsForNextWindow(t *testing.T) {
	const every = time.Hour
	s := newSchedule(every, epoch, rand.New(rand.NewPCG(7, 8)))
	tick0 := s.tick(0)
	s.addActivity(tick0) // exactly at the tick: too late for it
	if at := s.next(); !at.Equal(s.tick(1)) || at.Before(epoch.Add(every)) {
		t.Fatalf("next = %v, want window 1's tick %v", at, s.tick(1))
	}
	s2 := newSchedule(every, epoch, rand.New(rand.NewPCG(7, 8)))
	s2.addActivity(epoch)
	if at := s2.next(); !at.Equal(s2.tick(0)) {
		t.Fatalf("next = %v, want window 0's tick", at)
	}
	// Once window 0 had its alert, new activity in it waits for window 1.
	s2.sent(kindActivity, s2.tick(0))
	s2.addActivity(s2.tick(0).Add(-time.Nanosecond)) // as if taken late
	if at := s2.next(); at.Before(epoch.Add(every)) {
		t.Fatalf("second alert in window 0 at %v", at)
	}
}

func TestScheduleDangerAtOnceThenSpaced(t *testing.T) {
	s := newSchedule(time.Hour, epoch, rand.New(rand.NewPCG(9, 10)))
	s.addDanger()
	if d, _ := s.due(epoch); !d {
		t.Fatal("danger not due at once")
	}
	s.sent(kindDanger, epoch)
	if s.danger {
		t.Fatal("danger bit kept after sending")
	}
	s.addDanger()
	if d, _ := s.due(epoch.Add(10 * time.Second)); d {
		t.Fatal("second danger alert within a minute")
	}
	if at := s.next(); !at.Equal(epoch.Add(dangerGap)) {
		t.Fatalf("second danger alert at %v, want %v", at, epoch.Add(dangerGap))
	}
	if d, _ := s.due(epoch.Add(dangerGap)); !d {
		t.Fatal("second danger alert not due after the gap")
	}
}

func TestScheduleBackoff(t *testing.T) {
	s := newSchedule(time.Hour, epoch, rand.New(rand.NewPCG(11, 12)))
	s.addDanger()
	now := epoch
	want := retryBase
	for i := range 12 {
		s.failed(now)
		wait := s.retryAt.Sub(now)
		if wait < want/2 || wait > want {
			t.Fatalf("retry %d after %v, want between %v and %v", i+1, wait, want/2, want)
		}
		if d, _ := s.due(s.retryAt.Add(-time.Nanosecond)); d {
			t.Fatal("due before the retry time")
		}
		now = s.retryAt
		want = min(want*2, retryMax)
	}
	// A new danger report tries again at once.
	s.addDanger()
	if d, _ := s.due(now); !d {
		t.Fatal("a new danger report does not cut the backoff short")
	}
	s.sent(kindDanger, now)
	if s.attempts != 0 || !s.retryAt.IsZero() {
		t.Fatal("backoff not reset by a success")
	}
}
