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
	// maxPendingBytes bounds one Pending answer; at least one item is
	// always returned so a large item cannot stall the queue.
	maxPendingBytes = 64 << 20
	// MaxReplySize bounds a sealed team reply.
	MaxReplySize = 4 << 20
)

// Pending lists queued items after sequence number after, oldest first, for
// the given routes (all routes if routes is nil), at most limit items. Items
// member has already acknowledged are left out (member "" leaves none out),
// so a member who syncs from the start sees exactly what they still lack.
// An entry that cannot deliver its item is left out too, but never
// silently: it counts in QueueBlocked, and RebuildQueue puts it right.
func (s *Store) Pending(after uint64, limit int, routes []string, member string) ([]Item, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Item
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketQueue).Cursor()
		size := 0
		for k, v := c.Seek(seqKey(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			if len(k) != 8 {
				continue // names nothing; counted when the store opened
			}
			seq := binary.BigEndian.Uint64(k)
			it, ok := s.queued(tx, seq, v)
			if !ok {
				continue
			}
			if routes != nil && !slices.Contains(routes, it.Route) {
				continue
			}
			if member != "" && slices.Contains(it.ackedBy, member) {
				continue
			}
			if len(out) > 0 && size+len(it.Sealed) > maxPendingBytes {
				break
			}
			size += len(it.Sealed)
			it.Sealed = bytes.Clone(it.Sealed)
			out = append(out, it.Item)
		}
		return nil
	})
	return out, err
}

type queuedItem struct {
	Item
	ackedBy []string
}

// queued reads the item the queue entry at seq names. An entry that cannot
// deliver it (unreadable, naming a thread or item that is not there or
// does not wait at this position, or another route than its thread's) is
// counted as blocked. Sealed points into the transaction.
func (s *Store) queued(tx *bolt.Tx, seq uint64, v []byte) (queuedItem, bool) {
	var q queueEntry
	if unmarshal(v, &q) != nil {
		s.blocked(seq, "")
		return queuedItem{}, false
	}
	tb := tx.Bucket(bucketThreads).Bucket(q.Thread)
	var rec threadRecord
	if tb == nil || getJSON(tb, keyInfo, &rec) != nil {
		s.blocked(seq, q.Route)
		return queuedItem{}, false
	}
	items, sb := tb.Bucket(bucketItems), tb.Bucket(bucketSealed)
	var ir itemRecord
	if items == nil || sb == nil || getJSON(items, q.Item, &ir) != nil || ir.Seq != seq || q.Route != rec.Route {
		s.blocked(seq, rec.Route)
		return queuedItem{}, false
	}
	sealed := sb.Get(q.Item)
	if sealed == nil {
		s.blocked(seq, rec.Route)
		return queuedItem{}, false
	}
	return queuedItem{Item: Item{
		Seq: seq, ID: idString(q.Item), Thread: idString(q.Thread),
		Route: rec.Route, Kind: ir.Kind, Day: ir.Day, Sealed: sealed,
	}, ackedBy: ir.AckedBy}, true
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
			it = Item{Seq: ir.Seq, ID: itemID, Thread: threadID, Route: rec.Route, Kind: ir.Kind, Day: ir.Day}
			return nil
		}
		rec.RepliesWaiting = true
		if err := s.putItem(tx, tb, rec, tid, iid, KindReply, day, sealed); err != nil {
			return err
		}
		it = Item{Seq: tx.Bucket(bucketQueue).Sequence(), ID: itemID, Thread: threadID, Route: rec.Route, Kind: KindReply, Day: day}
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
// is a no-op. The result holds one error per item.
func (s *Store) AckMany(itemIDs []string, member string, routes []string, team func(route string) []string) ([]error, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := make([][]byte, len(itemIDs))
	for i, id := range itemIDs {
		ids[i], _ = parseID(id) // nil: reported as not found below
	}
	var errs []error
	// One member's page of acknowledgements is already one commit; Batch
	// would only add its wait.
	err := s.db.Update(func(tx *bolt.Tx) error {
		errs = make([]error, len(ids))
		for i, iid := range ids {
			if iid == nil {
				errs[i] = ErrNotFound
				continue
			}
			if err := s.ack(tx, iid, member, routes, team); errors.Is(err, ErrNotFound) {
				errs[i] = err
			} else if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to record acknowledgements: %w", writeErr(err))
	}
	return errs, nil
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

func (s *Store) ack(tx *bolt.Tx, iid []byte, member string, routes []string, team func(string) []string) error {
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
		if err := tx.Bucket(bucketQueue).Delete(seqKey(ir.Seq)); err != nil {
			return err
		}
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
