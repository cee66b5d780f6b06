package cases

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// oldestSchema is the oldest store layout migrate brings up to date.
//
// Schema 2 kept the server's queue positions: each item's "seq", and the
// highest as the meta "cursor". The server counted every route's items
// with one counter, so those numbers said how many items other routes had
// received. The server no longer sends positions (its page cursors are
// opaque and never kept), and schema 3 keeps none. Schema 4 shares case
// numbers and records with the team (migrateShared).
const (
	oldestSchema      = 2
	schemaNoPositions = 3
)

// kCursorV2 is schema 2's record of the highest position pulled.
var kCursorV2 = []byte("cursor")

// migrate brings a store of schema from to schema 3, in one transaction:
// the store is either wholly of the old layout or wholly of the new.
func (s *Store) migrate(from int) error {
	if from >= schemaNoPositions {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if err := meta.Delete(kCursorV2); err != nil {
			return err
		}
		// Re-encoding drops "seq": the types no longer have it.
		items := tx.Bucket(bItems)
		if err := reencode[itemMeta](items); err != nil {
			return err
		}
		if rb := tx.Bucket(bRejected); rb != nil {
			if err := reencode[rejectedItem](rb); err != nil {
				return err
			}
		}
		return meta.Put(kSchema, []byte(strconv.Itoa(schemaNoPositions)))
	})
	if err != nil {
		return fmt.Errorf("failed to bring the case store up to date (it has not been changed): %w", err)
	}
	return nil
}

// reencode decodes every record of b as a T and writes it again.
func reencode[T any](b *bolt.Bucket) error {
	type rec struct{ k, v []byte }
	var recs []rec
	err := b.ForEach(func(k, v []byte) error {
		var t T
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("%w: an unreadable record", ErrStoreCorrupt)
		}
		data, err := json.Marshal(t)
		if err != nil {
			return err
		}
		recs = append(recs, rec{append([]byte(nil), k...), data})
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := b.Put(r.k, r.v); err != nil {
			return err
		}
	}
	return nil
}

// migrateShared brings a store of schema 3, whose case numbers, triage and
// chronology were this computer's own, to schema 4, in one transaction:
//
//   - each case takes its shared number (number.go); its former number is
//     kept (FindCase still takes it, and show names it);
//   - its triage and chronology entries stay as they were, on this
//     computer only, and are shown as such: they were written privately,
//     so nothing of them is sent to the team unless a lead writes it again;
//   - replies stored so far were not signed, and are marked so, rather
//     than set aside;
//   - every summary is written again, under the new numbers.
func (s *Store) migrateShared() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		threads := tx.Bucket(bThreads)
		var all []caseRec
		err := threads.ForEach(func(k, v []byte) error {
			var c caseRec
			if err := getJSON(threads, k, &c); err != nil {
				return err
			}
			all = append(all, c)
			return nil
		})
		if err != nil {
			return err
		}
		// Numbered in their old order, so that should two ever collide,
		// the older case keeps the plain number.
		sort.Slice(all, func(i, j int) bool { return all[i].Number < all[j].Number })
		if err := tx.DeleteBucket(bCaseNums); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bCaseNums); err != nil {
			return err
		}
		former := tx.Bucket(bFormer)
		for i := range all {
			c := &all[i]
			c.Former = c.Number
			if err := numberCase(tx, c); err != nil {
				return err
			}
			if err := putJSON(threads, []byte(c.Thread), c); err != nil {
				return err
			}
			if err := former.Put(be(c.Former), be(c.Number)); err != nil {
				return err
			}
		}
		ib := tx.Bucket(bItems)
		var replies [][]byte
		err = ib.ForEach(func(k, v []byte) error {
			var m itemMeta
			if err := getJSON(ib, k, &m); err != nil {
				return err
			}
			if m.Kind == vault.KindReply {
				replies = append(replies, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range replies {
			var m itemMeta
			if err := getJSON(ib, k, &m); err != nil {
				return err
			}
			m.Legacy = true
			if err := putJSON(ib, k, m); err != nil {
				return err
			}
		}
		for _, c := range all {
			if err := s.refreshDigest(tx, c.Thread, nil); err != nil {
				return err
			}
		}
		return tx.Bucket(bMeta).Put(kSchema, []byte(strconv.Itoa(schemaShared)))
	})
}
