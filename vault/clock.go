package vault

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The store keeps its own idea of today. A server's clock can go wrong: a
// dead clock battery sets it back years, a bad time sync or a mistyped date
// sets it months ahead. Believed, a clock ahead ages every thread past
// retention at once (and deletes them, replies and all), and either way new
// reports carry wrong days. So the store remembers the last day it trusted,
// and believes the clock only while it reads that day or a few days after.

// maxClockJump is how many days the clock may move on from the last day the
// store trusted and still be believed: a long weekend with the server off.
// Beyond it, or before that day, an operator must say the date is right.
const maxClockJump = 4

// ErrClock means the clock reads a day the store does not believe; see
// ClockError.
var ErrClock = errors.New("the clock looks wrong")

// keyClockDay is the last day the store trusted, in its meta bucket.
// Stores from before it kept only the day retention last ran, which serves
// as well.
var (
	keyClockDay     = []byte("clock-day")
	keyRetentionDay = []byte("retention-day")
)

// ClockError says what the clock reads and the last day the store trusted.
// While it stands, new items are stamped with the trusted day, threads age
// by it, and retention does not run.
type ClockError struct {
	Reads   string // the clock's calendar day
	Trusted string // the last day the store trusted
	Days    int    // Reads less Trusted: negative when the clock is behind
}

func (e *ClockError) Error() string {
	if e.Days < 0 {
		return fmt.Sprintf("the clock reads %s, %d days before %s, the last day the store trusted", e.Reads, -e.Days, e.Trusted)
	}
	return fmt.Sprintf("the clock reads %s, %d days after %s, the last day the store trusted", e.Reads, e.Days, e.Trusted)
}

func (e *ClockError) Unwrap() error { return ErrClock }

// today is the calendar day the store stamps and ages threads by: the
// clock's, while it is believable, and otherwise the last day the store
// trusted. A believable day becomes the trusted one.
func (s *Store) today() string {
	day := Today(s.now())
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	if d := daysBetween(s.trusted, day); s.trusted != "" && (d < 0 || d > maxClockJump) {
		return s.trusted
	}
	s.trusted = day
	return day
}

// CheckClock returns a *ClockError when the clock reads a day the store
// does not believe, and nil when it does.
func (s *Store) CheckClock() error {
	trusted := s.today()
	day := Today(s.now())
	if day == trusted {
		return nil
	}
	return &ClockError{Reads: day, Trusted: trusted, Days: daysBetween(trusted, day)}
}

// TrustToday makes the store believe the clock's day, whatever it trusted
// before: an operator's word that the date is right. It returns the day it
// trusted until now.
func (s *Store) TrustToday() (prev string, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	day := Today(s.now())
	s.clockMu.Lock()
	prev, s.trusted = s.trusted, day
	s.clockMu.Unlock()
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyClockDay, []byte(day))
	})
	if err != nil {
		return prev, fmt.Errorf("failed to record the date: %w", writeErr(err))
	}
	return prev, nil
}

// loadClock reads the last day the store trusted.
func (s *Store) loadClock(tx *bolt.Tx) {
	meta := tx.Bucket(bucketMeta)
	for _, k := range [][]byte{keyClockDay, keyRetentionDay} {
		if v := string(meta.Get(k)); validDay(v) {
			s.trusted = v
			return
		}
	}
}

// laterDay returns the later of two calendar days.
func laterDay(a, b string) string {
	if b > a {
		return b
	}
	return a
}

func validDay(s string) bool {
	_, err := time.Parse(dayLayout, s)
	return err == nil
}
