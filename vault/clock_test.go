package vault

import (
	"errors"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// passDays moves the clock on n days, one at a time, as a running server
// sees them: its daily chores read the clock each day.
func passDays(s *Store, c *clock, n int) {
	for range n {
		c.t = c.t.AddDate(0, 0, 1)
		s.today()
	}
}

// readThreads makes n threads the team has fetched, so that only age can
// expire them.
func readThreads(t *testing.T, s *Store, team *Team, n int) []Receipt {
	t.Helper()
	var rs []Receipt
	for range n {
		r, err := s.CreateThread("safeguarding", report("x"), team.Recipients())
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	items, _, _ := s.Pending("", 1000, nil, "")
	for _, it := range items {
		s.Ack(it.ID, "m", nil)
	}
	return rs
}

// A clock set months ahead deleted every thread, replies and all; set right
// again, retention stayed paused until that future day. Now the jump is
// seen: nothing is deleted, every receipt still works, new reports carry
// the last good day, and retention goes on once the clock is right.
func TestClockJumpsForward(t *testing.T) {
	_, team := testTeam(t, 1)
	c := &clock{time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	s, _ := openTest(t, c)
	rs := readThreads(t, s, team, 30)
	passDays(s, c, 10)
	if _, _, err := s.DeleteInactive(90); err != nil {
		t.Fatal(err)
	}

	c.t = time.Date(2027, 1, 15, 9, 0, 0, 0, time.UTC) // months ahead
	n, _, err := s.DeleteInactive(90)
	var ce *ClockError
	if n != 0 || !errors.Is(err, ErrClock) || !errors.As(err, &ce) || ce.Reads != "2027-01-15" || ce.Trusted != "2026-06-11" || ce.Days != 218 {
		t.Fatalf("retention with the clock months ahead: deleted %d, %v", n, err)
	}
	for _, r := range rs {
		if _, err := s.Thread(r); err != nil {
			t.Fatalf("a receipt stopped working while the clock was ahead: %v", err)
		}
	}
	late, err := s.CreateThread("safeguarding", report("sent while the clock was wrong"), team.Recipients())
	if err != nil {
		t.Fatal(err)
	}
	if ti, _ := s.Thread(late); ti.Created != "2026-06-11" || ti.Active != "2026-06-11" {
		t.Fatalf("a report during the jump is stamped %s/%s, want the last good day", ti.Created, ti.Active)
	}

	// The clock is put right: retention goes on at once, deleting nothing.
	c.t = time.Date(2026, 6, 12, 9, 0, 0, 0, time.UTC)
	if n, _, err := s.DeleteInactive(90); err != nil || n != 0 {
		t.Fatalf("retention once the clock is right: %d, %v", n, err)
	}
	if len(s.threadCount(t)) != 31 {
		t.Fatal("threads were lost")
	}
}

// A clock that moves a few days ahead, then back, pauses retention only
// until an operator says the date is right.
func TestTrustToday(t *testing.T) {
	_, team := testTeam(t, 1)
	c := &clock{time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	s, path := openTest(t, c)
	readThreads(t, s, team, 2)
	c.t = c.t.AddDate(0, 0, 3) // within what a weekend off looks like
	if _, _, err := s.DeleteInactive(90); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.AddDate(0, 0, -3) // and back: the store now trusts the later day
	if _, _, err := s.DeleteInactive(90); !errors.Is(err, ErrClock) {
		t.Fatalf("clock back: %v", err)
	}
	prev, err := s.TrustToday()
	if err != nil || prev != "2026-06-04" {
		t.Fatalf("TrustToday: %q %v", prev, err)
	}
	if _, _, err := s.DeleteInactive(90); err != nil {
		t.Fatalf("after TrustToday: %v", err)
	}
	// The trusted day is kept in the store.
	s.Close()
	c.t = c.t.AddDate(0, 0, 30)
	s2, err := OpenStore(path, &Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var ce *ClockError
	if err := s2.CheckClock(); !errors.As(err, &ce) || ce.Trusted != "2026-06-01" {
		t.Fatalf("after reopening 30 days on: %v", err)
	}
}

// A server off for months comes back with the right date: the operator
// confirms it, and retention still will not delete most threads at once
// without a second word.
func TestRetentionLargeShare(t *testing.T) {
	_, team := testTeam(t, 1)
	c := &clock{time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	s, _ := openTest(t, c)
	readThreads(t, s, team, 20)
	passDays(s, c, 30)
	readThreads(t, s, team, 5)
	c.t = c.t.AddDate(0, 0, 100) // off for a hundred days
	if _, _, err := s.DeleteInactive(90); !errors.Is(err, ErrClock) {
		t.Fatalf("after a hundred days off: %v", err)
	}
	s.TrustToday()
	if p, err := s.PlanRetention(90); err != nil || p != (RetentionPlan{Delete: 25, Threads: 25, Large: true}) {
		t.Fatalf("plan: %+v %v", p, err)
	}
	n, _, err := s.DeleteInactive(90)
	if n != 0 || !errors.Is(err, ErrRetentionLarge) || !strings.Contains(err.Error(), "25 of 25") {
		t.Fatalf("a large deletion: %d, %v", n, err)
	}
	if n := len(s.threadCount(t)); n != 25 {
		t.Fatalf("%d threads left after a refused run", n)
	}
	if n, _, err := s.DeleteInactiveAllowLarge(90); err != nil || n != 25 {
		t.Fatalf("confirmed: %d, %v", n, err)
	}
}

// Days stay in order: a thread is never last active before it was made,
// even when the clock went back between the two.
func TestActiveNeverBeforeCreated(t *testing.T) {
	_, team := testTeam(t, 1)
	c := &clock{time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	s, _ := openTest(t, c)
	r, _ := s.CreateThread("safeguarding", report("x"), team.Recipients())
	c.t = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	if err := s.FollowUp(r, report("more"), team.Recipients()); err != nil {
		t.Fatal(err)
	}
	s.Replies(r)
	ti, _ := s.Thread(r)
	if ti.Active < ti.Created {
		t.Fatalf("active %s before created %s", ti.Active, ti.Created)
	}
	items, _, _ := s.Pending("", 10, nil, "")
	if items[1].Day != "2026-06-01" {
		t.Fatalf("a follow-up while the clock was back is stamped %s", items[1].Day)
	}
}

func (s *Store) threadCount(t *testing.T) [][]byte {
	t.Helper()
	var ids [][]byte
	s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketThreads).ForEachBucket(func(k []byte) error {
			ids = append(ids, k)
			return nil
		})
	})
	return ids
}
