package vault

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// An item waits in its route's queue while the store still holds it and
// some current member of the route's team has not acknowledged it. The
// teams change when the server reads the team files (as it starts, and on
// a reload), and a member can ask for everything again (Resend): both put
// items back in the queues, in the order of their threads' first day and
// of their place in the thread.

// Requeue makes the queues agree with the current teams: an item still
// held (not purged, in a thread that has not expired) that a current member
// of its route's team, team(route), has not acknowledged waits in its
// route's queue, so a member who joined since receives the case history
// still held; and an item every current member has acknowledged leaves its
// queue (a member who left was the one it waited for). It returns how many
// items joined the queues and how many left them, in one commit.
func (s *Store) Requeue(team func(route string) []string) (joined, left int, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	err = s.db.Update(func(tx *bolt.Tx) error {
		joined, left = 0, 0
		var todo []held
		err := s.eachHeld(tx, nil, func(h held, ir *itemRecord) (bool, error) {
			done := everyone(ir.AckedBy, team(h.rec.Route))
			switch {
			case ir.Seq == 0 && !done:
				todo = append(todo, h)
			case ir.Seq != 0 && done:
				if _, err := dequeue(tx, h.rec.Route, ir.Seq); err != nil {
					return false, err
				}
				ir.Seq = 0
				h.rec.Queued--
				left++
				return true, nil
			}
			return false, nil
		})
		if err != nil {
			return err
		}
		joined = len(todo)
		return requeue(tx, todo)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("failed to bring the staff queues up to date with the teams: %w", writeErr(err))
	}
	return joined, left, nil
}

// Resend forgets member's acknowledgements of every item still held on
// routes, and puts those items back in their queues, so that member is
// sent them all again: for a member whose computer was lost or replaced.
// It returns how many items member will be sent again.
func (s *Store) Resend(member string, routes []string) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		var todo []held
		err := s.eachHeld(tx, routes, func(h held, ir *itemRecord) (bool, error) {
			n++
			i := slices.Index(ir.AckedBy, member)
			if i < 0 {
				return false, nil
			}
			ir.AckedBy = slices.Delete(ir.AckedBy, i, i+1)
			if ir.Seq == 0 {
				todo = append(todo, h)
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		return requeue(tx, todo)
	})
	if err != nil {
		return 0, fmt.Errorf("failed to send items again: %w", writeErr(err))
	}
	return n, nil
}

// held is an item the store still holds, with its thread.
type held struct {
	tid, iid []byte
	rec      *threadRecord
	n        int // its place in the thread
}

// eachHeld calls f for every item still held in a live thread on routes
// (nil: all), and saves the item record when f says it changed it, and the
// thread record after each thread's items.
func (s *Store) eachHeld(tx *bolt.Tx, routes []string, f func(h held, ir *itemRecord) (bool, error)) error {
	threads := tx.Bucket(bucketThreads)
	var tids [][]byte
	err := threads.ForEachBucket(func(tid []byte) error {
		tids = append(tids, bytes.Clone(tid))
		return nil
	})
	if err != nil {
		return err
	}
	for _, tid := range tids {
		tb, rec, err := s.threadByID(tx, tid)
		if err != nil {
			continue // expired: retention takes it; unreadable: the queue check says so
		}
		items, sb := tb.Bucket(bucketItems), tb.Bucket(bucketSealed)
		if items == nil || sb == nil || routes != nil && !slices.Contains(routes, rec.Route) {
			continue
		}
		queued := rec.Queued
		var iids [][]byte
		items.ForEach(func(k, _ []byte) error {
			iids = append(iids, bytes.Clone(k))
			return nil
		})
		for _, iid := range iids {
			var ir itemRecord
			if getJSON(items, iid, &ir) != nil || ir.Purged || sb.Get(iid) == nil {
				continue
			}
			changed, err := f(held{tid, iid, rec, ir.N}, &ir)
			if err != nil {
				return err
			}
			if changed {
				if err := putJSON(items, iid, ir); err != nil {
					return err
				}
			}
		}
		if rec.Queued != queued {
			if err := putJSON(tb, keyInfo, rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// requeue puts held items back at the end of their routes' queues, oldest
// thread first and each thread's items in order, and counts them in their
// threads' records.
func requeue(tx *bolt.Tx, todo []held) error {
	slices.SortFunc(todo, func(a, b held) int {
		return cmp.Or(cmp.Compare(a.rec.Created, b.rec.Created), bytes.Compare(a.tid, b.tid), cmp.Compare(a.n, b.n))
	})
	threads := tx.Bucket(bucketThreads)
	for _, h := range todo {
		seq, err := enqueue(tx, h.rec.Route, h.tid, h.iid)
		if err != nil {
			return err
		}
		if err := setSeq(tx, waiting{h.tid, h.iid, h.rec.Route}, seq); err != nil {
			return err
		}
		tb := threads.Bucket(h.tid)
		var rec threadRecord
		if err := getJSON(tb, keyInfo, &rec); err != nil {
			return err
		}
		rec.Queued++
		if err := putJSON(tb, keyInfo, rec); err != nil {
			return err
		}
	}
	return nil
}
