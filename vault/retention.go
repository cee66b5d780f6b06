package vault

import (
	"bytes"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Retention deletes threads nobody has touched for a while. It is the one
// thing the store does that loses data on purpose, so it guards against the
// ways it could lose the wrong data: a wrong clock (see clock.go) and a run
// that would take an unusual share of the threads at once.

const (
	// maxRetentionShare: one run may delete at most this share of the
	// threads without an operator's word (DeleteInactiveAllowLarge). Day to
	// day, retention takes about one ninetieth of them.
	maxRetentionShare = 0.25
	// retentionFloor: so few threads may always go, so that a small store
	// still expires its old threads by itself.
	retentionFloor = 10
)

// ErrRetentionLarge means retention would delete more than a quarter of the
// threads in one run, and did not.
var ErrRetentionLarge = errors.New("retention would delete an unusual share of the threads at once")

// DeleteInactive deletes every thread with no activity for more than days
// days, with everything in it. A thread with an item the team has not
// fetched is kept however old it is, and counted in kept. It does not run
// while the clock looks wrong (a *ClockError), nor when it would delete more
// than a quarter of the threads (ErrRetentionLarge): an operator confirms
// that with DeleteInactiveAllowLarge.
func (s *Store) DeleteInactive(days int) (deleted, kept int, err error) {
	return s.deleteInactive(days, false)
}

// DeleteInactiveAllowLarge is DeleteInactive without the limit on how many
// threads one run may delete, for an operator who has checked it is right.
func (s *Store) DeleteInactiveAllowLarge(days int) (deleted, kept int, err error) {
	return s.deleteInactive(days, true)
}

func (s *Store) deleteInactive(days int, allowLarge bool) (deleted, kept int, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.CheckClock(); err != nil {
		return 0, 0, err
	}
	today := s.today()
	var total int
	large := false
	err = s.db.Update(func(tx *bolt.Tx) error {
		// The day is good: remember it, even if nothing is deleted.
		if err := tx.Bucket(bucketMeta).Put(keyClockDay, []byte(today)); err != nil {
			return err
		}
		var doomed [][]byte
		var err error
		doomed, kept, total, err = s.inactive(tx, days, today)
		if err != nil {
			return err
		}
		if !allowLarge && tooLarge(len(doomed), total) {
			large, deleted = true, len(doomed)
			return nil
		}
		for _, tid := range doomed {
			if err := deleteThread(tx, tid); err != nil {
				return err
			}
		}
		deleted = len(doomed)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("failed to delete inactive threads: %w", writeErr(err))
	}
	if large {
		return 0, kept, fmt.Errorf("%w: %d of %d threads", ErrRetentionLarge, deleted, total)
	}
	return deleted, kept, nil
}

func tooLarge(doomed, total int) bool {
	return doomed > retentionFloor && float64(doomed) > maxRetentionShare*float64(total)
}

// RetentionPlan is what DeleteInactive would do today.
type RetentionPlan struct {
	Delete  int  // threads it would delete
	Keep    int  // threads past retention it keeps: the team has not fetched them
	Threads int  // threads in the store
	Large   bool // too many to delete without an operator's word
}

// PlanRetention says what DeleteInactive would do today, changing nothing.
func (s *Store) PlanRetention(days int) (RetentionPlan, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	today := s.today()
	var p RetentionPlan
	err := s.db.View(func(tx *bolt.Tx) error {
		ids, kept, total, err := s.inactive(tx, days, today)
		p = RetentionPlan{Delete: len(ids), Keep: kept, Threads: total, Large: tooLarge(len(ids), total)}
		return err
	})
	return p, err
}

// inactive finds the threads past retention on today. One with an item
// still queued for the team is kept, whatever its record's count says.
func (s *Store) inactive(tx *bolt.Tx, days int, today string) (doomed [][]byte, kept, total int, err error) {
	threads := tx.Bucket(bucketThreads)
	err = threads.ForEachBucket(func(tid []byte) error {
		total++
		tb := threads.Bucket(tid)
		var rec threadRecord
		if err := getJSON(tb, keyInfo, &rec); err != nil {
			return err
		}
		if daysBetween(rec.Active, today) <= days {
			return nil
		}
		queued, err := hasQueued(tb)
		if err != nil {
			return err
		}
		if rec.Queued > 0 || queued {
			kept++
		} else {
			doomed = append(doomed, bytes.Clone(tid))
		}
		return nil
	})
	return doomed, kept, total, err
}

// hasQueued reports whether any item of a thread still waits in the queue.
func hasQueued(tb *bolt.Bucket) (bool, error) {
	items := tb.Bucket(bucketItems)
	if items == nil {
		return false, nil
	}
	queued := false
	err := items.ForEach(func(_, v []byte) error {
		var ir itemRecord
		if err := unmarshal(v, &ir); err != nil {
			return err
		}
		queued = queued || ir.Seq != 0
		return nil
	})
	return queued, err
}

func deleteThread(tx *bolt.Tx, tid []byte) error {
	threads := tx.Bucket(bucketThreads)
	tb := threads.Bucket(tid)
	var rec threadRecord
	if err := getJSON(tb, keyInfo, &rec); err != nil {
		return err
	}
	if err := tx.Bucket(bucketLookup).Delete(rec.Lookup); err != nil {
		return err
	}
	if items := tb.Bucket(bucketItems); items != nil {
		err := items.ForEach(func(k, v []byte) error {
			var ir itemRecord
			if err := unmarshal(v, &ir); err != nil {
				return err
			}
			if ir.Seq != 0 {
				if _, err := dequeue(tx, rec.Route, ir.Seq); err != nil {
					return err
				}
			}
			return tx.Bucket(bucketItemIdx).Delete(k)
		})
		if err != nil {
			return err
		}
	}
	return threads.DeleteBucket(tid)
}
