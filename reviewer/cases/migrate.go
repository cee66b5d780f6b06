package cases

import (
	"encoding/json"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// oldestSchema is the oldest store layout migrate brings up to date.
//
// Schema 2 kept the server's queue positions: each item's "seq", and the
// highest as the meta "cursor". The server counted every route's items
// with one counter, so those numbers said how many items other routes had
// received. The server no longer sends positions (its page cursors are
// opaque and never kept), and schema 3 keeps none.
const oldestSchema = 2

// kCursorV2 is schema 2's record of the highest position pulled.
var kCursorV2 = []byte("cursor")

// migrate brings a store of schema from up to date, in one transaction:
// the store is either wholly of the old layout or wholly of the new.
func (s *Store) migrate(from int) error {
	if from == storeSchema {
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
		return meta.Put(kSchema, []byte(strconv.Itoa(storeSchema)))
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
