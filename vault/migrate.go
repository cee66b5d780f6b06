package vault

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"fmt"
	"slices"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// Schema 1 kept one staff queue for every route, keyed by one counter that
// every report, follow-up and reply of every route advanced, and the staff
// channel showed that counter to members: a member of one route could count
// another's items. Schema 2 keeps a queue per route (queue.go) and shows no
// position at all (cursor.go).

// bucketQueueV1 is schema 1's one staff queue: position -> thread, item,
// route.
var bucketQueueV1 = []byte("queue")

// migrate brings a store of schema from up to date, in one transaction: a
// store is either wholly of the old layout or wholly of the new.
func (s *Store) migrate(from int) error {
	if from != 1 {
		return fmt.Errorf("%w: no way from schema %d", ErrSchema, from)
	}
	ckey := make([]byte, cursorKeySize)
	if _, err := rand.Read(ckey); err != nil {
		return fmt.Errorf("failed to read randomness: %w", err)
	}
	var moved int
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if moved, err = migrateQueues(tx); err != nil {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyCursorKey, ckey); err != nil {
			return err
		}
		return meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion)))
	})
	if err != nil {
		return writeErr(err)
	}
	s.notices = append(s.notices, fmt.Sprintf("the store was brought up to date from schema 1 to %d: each route now has its own staff queue (%d items waiting moved), and the old queue and its counter are gone", SchemaVersion, moved))
	return nil
}

// migrateQueues makes a queue per route from the threads' item records,
// which say what waits (itemRecord.Seq): the same idea as RebuildQueue. The
// items keep the order of their old positions; each route's new positions
// count from one. What cannot be read is left as it is, for the check
// that follows to report.
func migrateQueues(tx *bolt.Tx) (int, error) {
	type old struct {
		seq uint64
		waiting
	}
	var todo []old
	threads := tx.Bucket(bucketThreads)
	err := threads.ForEachBucket(func(tid []byte) error {
		tb := threads.Bucket(tid)
		var rec threadRecord
		items := tb.Bucket(bucketItems)
		if getJSON(tb, keyInfo, &rec) != nil || items == nil {
			return nil
		}
		return items.ForEach(func(k, v []byte) error {
			var ir itemRecord
			if unmarshal(v, &ir) == nil && ir.Seq != 0 {
				todo = append(todo, old{ir.Seq, waiting{bytes.Clone(tid), bytes.Clone(k), rec.Route}})
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	slices.SortFunc(todo, func(a, b old) int {
		return cmp.Or(cmp.Compare(a.seq, b.seq), bytes.Compare(a.thread, b.thread), bytes.Compare(a.item, b.item))
	})
	if _, err := tx.CreateBucketIfNotExists(bucketQueues); err != nil {
		return 0, err
	}
	for _, o := range todo {
		seq, err := enqueue(tx, o.route, o.thread, o.item)
		if err != nil {
			return 0, err
		}
		if err := setSeq(tx, o.waiting, seq); err != nil {
			return 0, err
		}
	}
	if tx.Bucket(bucketQueueV1) != nil {
		if err := tx.DeleteBucket(bucketQueueV1); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}
