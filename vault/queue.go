package vault

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

const (
	// MaxPageBytes bounds the sealed bytes of one Pending answer; at least
	// one item is always returned so a large item cannot stall the queue.
	MaxPageBytes = 64 << 20
	// MaxReplySize bounds a sealed team reply.
	MaxReplySize = 4 << 20
)

// The staff queue: one queue per route, in the bucket "queues", each
// keyed by its own counter (itemRecord.Seq is an item's position in its
// route's queue). A member reads only the queues of their routes, so
// nothing they see moves when another route receives items; positions
// never leave the server (cursor.go); and a queue that empties starts
// counting again from one, so its counter keeps no lasting tally of a
// route's items.

// Pending lists items waiting for the team on the given routes (all routes
// if routes is nil), after cursor ("" for the beginning): route by route
// in the order of their names, each route's in the order they arrived, at
// most limit items. Items member has already acknowledged are left out
// (member "" leaves none out), so a member who syncs from the start sees
// exactly what they still lack. It returns the cursor after the last item
// listed, sealed for member ("" when none was), or ErrBadCursor. An entry
// that cannot deliver its item is left out too, but never silently: it
// counts in QueueBlocked, and RebuildQueue puts it right.
func (s *Store) Pending(cursor string, limit int, routes []string, member string) ([]Item, string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.old {
		return nil, "", fmt.Errorf("%w: the store has an older layout; open it writable to bring it up to date", ErrSchema)
	}
	from, err := s.openCursor(member, cursor)
	if err != nil {
		return nil, "", err
	}
	var out []Item
	var last position
	err = s.db.View(func(tx *bolt.Tx) error {
		queues := tx.Bucket(bucketQueues)
		names := slices.Clone(routes)
		if routes == nil {
			queues.ForEachBucket(func(k []byte) error {
				names = append(names, string(k))
				return nil
			})
		}
		slices.Sort(names)
		size := 0
		for _, route := range slices.Compact(names) {
			if route < from.route {
				continue
			}
			q := queues.Bucket([]byte(route))
			if q == nil {
				continue
			}
			start := uint64(1)
			if route == from.route {
				start = from.seq + 1
			}
			c := q.Cursor()
			for k, v := c.Seek(seqKey(start)); k != nil; k, v = c.Next() {
				if len(out) >= limit {
					return nil
				}
				if len(k) != 8 || v == nil {
					continue // names nothing; counted when the store opened
				}
				at := position{route, binary.BigEndian.Uint64(k)}
				it, ok := s.queued(tx, at, v)
				if !ok || member != "" && slices.Contains(it.ackedBy, member) {
					continue
				}
				if len(out) > 0 && size+len(it.Sealed) > MaxPageBytes {
					return nil
				}
				size += len(it.Sealed)
				it.Sealed = bytes.Clone(it.Sealed)
				out, last = append(out, it.Item), at
			}
		}
		return nil
	})
	if err != nil || len(out) == 0 {
		return out, "", err
	}
	next, err := s.sealCursor(member, last)
	return out, next, err
}

type queuedItem struct {
	Item
	ackedBy []string
}

// queued reads the item the queue entry at p names. An entry that cannot
// deliver it (unreadable, naming a thread or item that is not there, that
// does not wait at this position, or of another route) is counted as
// blocked. Sealed points into the transaction.
func (s *Store) queued(tx *bolt.Tx, p position, v []byte) (queuedItem, bool) {
	var q queueEntry
	if unmarshal(v, &q) != nil {
		s.blocked(p)
		return queuedItem{}, false
	}
	tb := tx.Bucket(bucketThreads).Bucket(q.Thread)
	var rec threadRecord
	if tb == nil || getJSON(tb, keyInfo, &rec) != nil {
		s.blocked(p)
		return queuedItem{}, false
	}
	items, sb := tb.Bucket(bucketItems), tb.Bucket(bucketSealed)
	var ir itemRecord
	if items == nil || sb == nil || getJSON(items, q.Item, &ir) != nil || ir.Seq != p.seq || rec.Route != p.route {
		s.blocked(p)
		return queuedItem{}, false
	}
	sealed := sb.Get(q.Item)
	if sealed == nil {
		s.blocked(p)
		return queuedItem{}, false
	}
	return queuedItem{Item: Item{
		ID: idString(q.Item), Thread: idString(q.Thread),
		Route: rec.Route, Kind: ir.Kind, Day: ir.Day, Sealed: sealed,
	}, ackedBy: ir.AckedBy}, true
}

// enqueue puts an item at the end of its route's queue and returns its
// position there.
func enqueue(tx *bolt.Tx, route string, thread, item []byte) (uint64, error) {
	q, err := tx.Bucket(bucketQueues).CreateBucketIfNotExists([]byte(route))
	if err != nil {
		return 0, err
	}
	seq, err := q.NextSequence()
	if err != nil {
		return 0, err
	}
	return seq, putJSON(q, seqKey(seq), queueEntry{Thread: thread, Item: item})
}

// dequeue takes position seq out of route's queue, and says whether that
// left the queue empty. An empty queue counts from one again.
func dequeue(tx *bolt.Tx, route string, seq uint64) (emptied bool, err error) {
	q := tx.Bucket(bucketQueues).Bucket([]byte(route))
	if q == nil {
		return false, nil
	}
	if err := q.Delete(seqKey(seq)); err != nil {
		return false, err
	}
	if k, _ := q.Cursor().First(); k == nil {
		return true, q.SetSequence(0)
	}
	return false, nil
}

// AddReply stores a team reply, already sealed by the reviewer to the
// thread's reply recipient and the team. itemID is chosen by the reviewer so
// that a retried push is a no-op rather than a duplicate.
func (s *Store) AddReply(threadID, itemID string, sealed []byte) (Item, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	tid, err := parseID(threadID)
	if err != nil {
		return Item{}, ErrNotFound
	}
	iid, err := parseID(itemID)
	if err != nil {
		return Item{}, fmt.Errorf("invalid item id")
	}
	if len(sealed) > MaxReplySize {
		return Item{}, ErrTooLarge
	}
	if !bytes.HasPrefix(sealed, []byte(ageMagic)) {
		return Item{}, ErrMalformed
	}
	day := s.today()
	var it Item
	err = s.db.Batch(func(tx *bolt.Tx) error {
		tb, rec, err := s.threadByID(tx, tid)
		if err != nil {
			return err
		}
		if owner := tx.Bucket(bucketItemIdx).Get(iid); owner != nil {
			if !bytes.Equal(owner, tid) {
				return ErrItemIDUsed
			}
			var ir itemRecord
			if err := getJSON(tb.Bucket(bucketItems), iid, &ir); err != nil {
				return err
			}
			it = Item{ID: itemID, Thread: threadID, Route: rec.Route, Kind: ir.Kind, Day: ir.Day}
			return nil
		}
		rec.RepliesWaiting = true
		if err := s.putItem(tx, tb, rec, tid, iid, KindReply, day, sealed); err != nil {
			return err
		}
		it = Item{ID: itemID, Thread: threadID, Route: rec.Route, Kind: KindReply, Day: day}
		return nil
	})
	return it, writeErr(err)
}

// ErrItemIDUsed means a reply's item id already belongs to another thread.
var ErrItemIDUsed = errors.New("item id already used")

// ThreadRoute returns the route of a live thread, for the staff channel to
// check a member may reply to it.
func (s *Store) ThreadRoute(threadID string) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	tid, err := parseID(threadID)
	if err != nil {
		return "", ErrNotFound
	}
	var route string
	err = s.db.View(func(tx *bolt.Tx) error {
		_, rec, err := s.threadByID(tx, tid)
		if err != nil {
			return err
		}
		route = rec.Route
		return nil
	})
	return route, err
}

// Ack records that member has stored an item; see AckMany.
func (s *Store) Ack(itemID, member string, team []string) error {
	errs, err := s.AckMany([]string{itemID}, member, nil, func(string) []string { return team })
	if err != nil {
		return err
	}
	return errs[0]
}

// AckMany records that member has stored each of itemIDs, in one commit.
// An item whose route is not in routes (nil allows all) answers
// ErrNotFound, like an unknown one. An item leaves the queue once every
// current member of its route's team, team(route), has acknowledged it, so
// no lasting record of arrival order remains and nobody who still needs it
// misses it; acknowledgements from people no longer on the team do not
// count. An acknowledged report marks its thread read. Acknowledging twice
// is a no-op. The result holds one error per item. When the commit left a
// route's queue empty, Options.Drained is called, after it.
func (s *Store) AckMany(itemIDs []string, member string, routes []string, team func(route string) []string) ([]error, error) {
	errs, drained, err := s.ackMany(itemIDs, member, routes, team)
	if drained && s.drained != nil {
		s.drained()
	}
	return errs, err
}

func (s *Store) ackMany(itemIDs []string, member string, routes []string, team func(route string) []string) ([]error, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := make([][]byte, len(itemIDs))
	for i, id := range itemIDs {
		ids[i], _ = parseID(id) // nil: reported as not found below
	}
	var errs []error
	var drained bool
	// One member's page of acknowledgements is already one commit; Batch
	// would only add its wait.
	err := s.db.Update(func(tx *bolt.Tx) error {
		errs, drained = make([]error, len(ids)), false
		for i, iid := range ids {
			if iid == nil {
				errs[i] = ErrNotFound
				continue
			}
			if err := s.ack(tx, iid, member, routes, team, &drained); errors.Is(err, ErrNotFound) {
				errs[i] = err
			} else if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("failed to record acknowledgements: %w", writeErr(err))
	}
	return errs, drained, nil
}

// everyone reports whether acked holds every key of team; an empty team
// (a route since removed) needs one acknowledgement.
func everyone(acked, team []string) bool {
	if len(team) == 0 {
		return len(acked) > 0
	}
	for _, k := range team {
		if !slices.Contains(acked, k) {
			return false
		}
	}
	return true
}

func (s *Store) ack(tx *bolt.Tx, iid []byte, member string, routes []string, team func(string) []string, drained *bool) error {
	tid := tx.Bucket(bucketItemIdx).Get(iid)
	if tid == nil {
		return ErrNotFound
	}
	tid = bytes.Clone(tid)
	tb, rec, err := s.threadByID(tx, tid)
	if err != nil {
		return err
	}
	if routes != nil && !slices.Contains(routes, rec.Route) {
		return ErrNotFound
	}
	items := tb.Bucket(bucketItems)
	var ir itemRecord
	if err := getJSON(items, iid, &ir); err != nil {
		return err
	}
	if ir.Seq == 0 || slices.Contains(ir.AckedBy, member) {
		return nil
	}
	ir.AckedBy = append(ir.AckedBy, member)
	changed := false
	if everyone(ir.AckedBy, team(rec.Route)) {
		emptied, err := dequeue(tx, rec.Route, ir.Seq)
		if err != nil {
			return err
		}
		*drained = *drained || emptied
		ir.Seq = 0
		rec.Queued--
		changed = true
	}
	if ir.Kind == KindReport && !rec.Read {
		rec.Read = true
		changed = true
	}
	if changed {
		if err := putJSON(tb, keyInfo, rec); err != nil {
			return err
		}
	}
	return putJSON(items, iid, ir)
}

// PurgeAcked deletes the sealed reports and follow-ups that have left the
// queue: the team holds them now. Replies stay, for the reporter to read.
func (s *Store) PurgeAcked() (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketThreads).ForEachBucket(func(tid []byte) error {
			tb := tx.Bucket(bucketThreads).Bucket(tid)
			items, sb := tb.Bucket(bucketItems), tb.Bucket(bucketSealed)
			if items == nil || sb == nil {
				return nil
			}
			var purge [][]byte
			err := items.ForEach(func(k, v []byte) error {
				var ir itemRecord
				if err := unmarshal(v, &ir); err != nil {
					return err
				}
				if ir.Kind != KindReply && ir.Seq == 0 && !ir.Purged {
					purge = append(purge, bytes.Clone(k))
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range purge {
				var ir itemRecord
				if err := getJSON(items, k, &ir); err != nil {
					return err
				}
				ir.Purged = true
				if err := sb.Delete(k); err != nil {
					return err
				}
				if err := putJSON(items, k, ir); err != nil {
					return err
				}
				n++
			}
			return nil
		})
	})
	return n, err
}
