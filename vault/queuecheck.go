package vault

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// The staff queues are an index: the threads' item records say which items
// still wait for the team (itemRecord.Seq, a position in the queue of the
// thread's route) and in what order, and each route's queue maps each
// position to its item. An index can be damaged while what it
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

// queueDamage is what the store knows is wrong with its queues.
type queueDamage struct {
	blocked map[position]bool // positions whose item the queue cannot deliver
	stray   []strayEntry      // entries that name no waiting item
	counts  int
	unread  int
}

// strayEntry is a key in the queues that names no waiting item: in route's
// queue, or beside the queues when route is "".
type strayEntry struct {
	route string
	key   []byte
	top   bool
}

// QueueHealth says what is wrong with the staff queue: what the check at
// open found, and any damage Pending has met since.
func (s *Store) QueueHealth() QueueHealth {
	s.queueMu.Lock()
	defer s.queueMu.Unlock()
	return QueueHealth{Blocked: len(s.qd.blocked), Stray: len(s.qd.stray), Counts: s.qd.counts, Unreadable: s.qd.unread}
}

// QueueBlocked counts the items waiting on routes (nil: all) that the
// queues cannot deliver, for the staff channel to tell a member. Every
// queue is a route's, so damage to one route's queue is never counted for
// another's.
func (s *Store) QueueBlocked(routes []string) int {
	s.queueMu.Lock()
	defer s.queueMu.Unlock()
	n := 0
	for p := range s.qd.blocked {
		if routes == nil || slices.Contains(routes, p.route) {
			n++
		}
	}
	return n
}

// blocked records that the entry at p cannot deliver its item.
func (s *Store) blocked(p position) {
	s.queueMu.Lock()
	defer s.queueMu.Unlock()
	if s.qd.blocked == nil {
		s.qd.blocked = map[position]bool{}
	}
	s.qd.blocked[p] = true
}

// waiting is an item the records say waits for the team.
type waiting struct {
	thread, item []byte
	route        string
}

// readQueue reads what the item records say the queues should hold, and
// what they do hold.
func readQueue(tx *bolt.Tx) (want map[position]waiting, dups []waiting, qd queueDamage, err error) {
	want = map[position]waiting{}
	qd = queueDamage{blocked: map[position]bool{}}
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
			p := position{rec.Route, ir.Seq}
			if _, dup := want[p]; dup {
				qd.blocked[p] = true
				dups = append(dups, w)
				return nil
			}
			want[p] = w
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
	queues := tx.Bucket(bucketQueues)
	err = queues.ForEach(func(name, v []byte) error {
		if v != nil {
			qd.stray = append(qd.stray, strayEntry{key: bytes.Clone(name), top: true})
			return nil
		}
		route := string(name)
		return queues.Bucket(name).ForEach(func(k, v []byte) error {
			if len(k) != 8 || v == nil {
				qd.stray = append(qd.stray, strayEntry{route: route, key: bytes.Clone(k)})
				return nil
			}
			p := position{route, binary.BigEndian.Uint64(k)}
			w, ok := want[p]
			var q queueEntry
			switch {
			case !ok:
				qd.stray = append(qd.stray, strayEntry{route: route, key: bytes.Clone(k)})
			case unmarshal(v, &q) != nil || !bytes.Equal(q.Thread, w.thread) || !bytes.Equal(q.Item, w.item):
				qd.blocked[p] = true
			}
			return nil
		})
	})
	for p := range want {
		if q := queues.Bucket([]byte(p.route)); q == nil || q.Get(seqKey(p.seq)) == nil {
			qd.blocked[p] = true
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
		queues := tx.Bucket(bucketQueues)
		// New positions come after every one in use.
		for p := range want {
			q, err := queues.CreateBucketIfNotExists([]byte(p.route))
			if err != nil {
				return err
			}
			if q.Sequence() < p.seq {
				if err := q.SetSequence(p.seq); err != nil {
					return err
				}
			}
		}
		for _, e := range qd.stray {
			var err error
			if e.top {
				err = queues.Delete(e.key)
			} else {
				err = queues.Bucket([]byte(e.route)).Delete(e.key)
			}
			if err != nil {
				return err
			}
			removed++
		}
		// Two items at one position: the second gets a new one.
		for _, w := range dups {
			seq, err := enqueue(tx, w.route, w.thread, w.item)
			if err != nil {
				return err
			}
			if err := setSeq(tx, w, seq); err != nil {
				return err
			}
			written++
		}
		for p := range qd.blocked {
			w, ok := want[p]
			if !ok {
				continue
			}
			if err := putJSON(queues.Bucket([]byte(p.route)), seqKey(p.seq), queueEntry{Thread: w.thread, Item: w.item}); err != nil {
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
