package vault

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// The staff queue is an index: the threads' item records say which items
// still wait for the team (itemRecord.Seq) and in what order, and the queue
// maps each position to its item. An index can be damaged while what it
// indexes is whole, and then an item would silently never reach the team.
// So the store checks the queue against the item records when it opens,
// Pending never skips an entry without counting it, and RebuildQueue makes
// the queue again from the records, for an operator to run.

// QueueHealth says what is wrong with the staff queue.
type QueueHealth struct {
	// Blocked counts items waiting for the team that the queue cannot
	// deliver: their entry is missing, unreadable or names something else.
	Blocked int
	// Stray counts entries that name no waiting item.
	Stray int
	// Counts counts threads whose record miscounts their waiting items.
	Counts int
	// Unreadable counts thread and item records that cannot be read: the
	// queue cannot be rebuilt around them.
	Unreadable int
}

// Sound reports whether nothing is wrong.
func (h QueueHealth) Sound() bool { return h == QueueHealth{} }

// queueDamage is what the store knows is wrong with its queue.
type queueDamage struct {
	blocked map[uint64]string // queue position -> route; "" when unknown
	stray   [][]byte          // keys of entries that name no waiting item
	counts  int
	unread  int
}

// QueueHealth says what is wrong with the staff queue: what the check at
// open found, and any damage Pending has met since.
func (s *Store) QueueHealth() QueueHealth {
	s.queueMu.Lock()
	defer s.queueMu.Unlock()
	return QueueHealth{Blocked: len(s.qd.blocked), Stray: len(s.qd.stray), Counts: s.qd.counts, Unreadable: s.qd.unread}
}

// QueueBlocked counts the items waiting on routes (nil: all) that the
// queue cannot deliver, for the staff channel to tell a member. Damage
// whose route is unknown counts for every route.
func (s *Store) QueueBlocked(routes []string) int {
	s.queueMu.Lock()
	defer s.queueMu.Unlock()
	n := 0
	for _, r := range s.qd.blocked {
		if r == "" || routes == nil || slices.Contains(routes, r) {
			n++
		}
	}
	return n
}

// blocked records that the entry at seq cannot deliver its item.
func (s *Store) blocked(seq uint64, route string) {
	s.queueMu.Lock()
	defer s.queueMu.Unlock()
	if s.qd.blocked == nil {
		s.qd.blocked = map[uint64]string{}
	}
	if r, ok := s.qd.blocked[seq]; !ok || r == "" {
		s.qd.blocked[seq] = route
	}
}

// waiting is an item the records say waits for the team.
type waiting struct {
	thread, item []byte
	route        string
}

// readQueue reads what the item records say the queue should hold, and
// what it does hold.
func readQueue(tx *bolt.Tx) (want map[uint64]waiting, dups []waiting, qd queueDamage, err error) {
	want = map[uint64]waiting{}
	qd = queueDamage{blocked: map[uint64]string{}}
	threads := tx.Bucket(bucketThreads)
	err = threads.ForEachBucket(func(tid []byte) error {
		tb := threads.Bucket(tid)
		var rec threadRecord
		if getJSON(tb, keyInfo, &rec) != nil {
			qd.unread++
			return nil
		}
		items := tb.Bucket(bucketItems)
		if items == nil {
			return nil
		}
		queued := 0
		err := items.ForEach(func(k, v []byte) error {
			var ir itemRecord
			if unmarshal(v, &ir) != nil {
				qd.unread++
				return nil
			}
			if ir.Seq == 0 {
				return nil
			}
			queued++
			w := waiting{bytes.Clone(tid), bytes.Clone(k), rec.Route}
			if _, dup := want[ir.Seq]; dup {
				qd.blocked[ir.Seq] = rec.Route
				dups = append(dups, w)
				return nil
			}
			want[ir.Seq] = w
			return nil
		})
		if queued != rec.Queued {
			qd.counts++
		}
		return err
	})
	if err != nil {
		return nil, nil, qd, err
	}
	err = tx.Bucket(bucketQueue).ForEach(func(k, v []byte) error {
		if len(k) != 8 {
			qd.stray = append(qd.stray, bytes.Clone(k))
			return nil
		}
		seq := binary.BigEndian.Uint64(k)
		w, ok := want[seq]
		var q queueEntry
		switch {
		case !ok:
			qd.stray = append(qd.stray, bytes.Clone(k))
		case unmarshal(v, &q) != nil || !bytes.Equal(q.Thread, w.thread) || !bytes.Equal(q.Item, w.item) || q.Route != w.route:
			qd.blocked[seq] = w.route
		}
		return nil
	})
	for seq, w := range want {
		if tx.Bucket(bucketQueue).Get(seqKey(seq)) == nil {
			qd.blocked[seq] = w.route
		}
	}
	return want, dups, qd, err
}

// checkQueue checks the queue against the item records.
func (s *Store) checkQueue(tx *bolt.Tx) error {
	_, _, qd, err := readQueue(tx)
	if err != nil {
		return err
	}
	s.queueMu.Lock()
	s.qd = qd
	s.queueMu.Unlock()
	return nil
}

// errUnreadable means records the queue is rebuilt from cannot be read.
var errUnreadable = fmt.Errorf("%w: thread or item records cannot be read", ErrCorrupt)

// RebuildQueue makes the staff queue, and each thread's count of waiting
// items, again from the threads' item records, in one commit, and checks
// the result. It refuses, changing nothing, when any of those records cannot
// be read. It returns how many entries it wrote and removed.
func (s *Store) RebuildQueue() (written, removed int, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	err = s.db.Update(func(tx *bolt.Tx) error {
		want, dups, qd, err := readQueue(tx)
		if err != nil {
			return err
		}
		if qd.unread > 0 {
			return fmt.Errorf("%w (%d)", errUnreadable, qd.unread)
		}
		queue := tx.Bucket(bucketQueue)
		// New positions come after every one in use.
		for seq := range want {
			if queue.Sequence() < seq {
				if err := queue.SetSequence(seq); err != nil {
					return err
				}
			}
		}
		// Two items at one position: the second gets a new one.
		for _, w := range dups {
			seq, err := queue.NextSequence()
			if err != nil {
				return err
			}
			if err := setSeq(tx, w, seq); err != nil {
				return err
			}
			want[seq] = w
			qd.blocked[seq] = w.route
		}
		for _, k := range qd.stray {
			if err := queue.Delete(k); err != nil {
				return err
			}
			removed++
		}
		for seq := range qd.blocked {
			w, ok := want[seq]
			if !ok {
				continue
			}
			if err := putJSON(queue, seqKey(seq), queueEntry{Thread: w.thread, Item: w.item, Route: w.route}); err != nil {
				return err
			}
			written++
		}
		return recount(tx)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("failed to rebuild the staff queue: %w", writeErr(err))
	}
	if err := s.db.View(s.checkQueue); err != nil {
		return written, removed, err
	}
	if h := s.QueueHealth(); !h.Sound() {
		return written, removed, fmt.Errorf("%w: the staff queue is still damaged after its rebuild (%+v)", ErrCorrupt, h)
	}
	return written, removed, nil
}

// setSeq moves a waiting item to queue position seq.
func setSeq(tx *bolt.Tx, w waiting, seq uint64) error {
	items := tx.Bucket(bucketThreads).Bucket(w.thread).Bucket(bucketItems)
	var ir itemRecord
	if err := getJSON(items, w.item, &ir); err != nil {
		return err
	}
	ir.Seq = seq
	return putJSON(items, w.item, ir)
}

// recount sets each thread's count of waiting items from its item records.
func recount(tx *bolt.Tx) error {
	threads := tx.Bucket(bucketThreads)
	return threads.ForEachBucket(func(tid []byte) error {
		tb := threads.Bucket(tid)
		var rec threadRecord
		if err := getJSON(tb, keyInfo, &rec); err != nil {
			return err
		}
		queued := 0
		if items := tb.Bucket(bucketItems); items != nil {
			err := items.ForEach(func(_, v []byte) error {
				var ir itemRecord
				if err := unmarshal(v, &ir); err != nil {
					return err
				}
				if ir.Seq != 0 {
					queued++
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if queued == rec.Queued {
			return nil
		}
		rec.Queued = queued
		return putJSON(tb, keyInfo, rec)
	})
}
