package cases

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// checkPage checks a page's labels and opens the items not yet stored. An
// item with a bad label is marked to be set aside, not refused, so one bad
// item cannot block the member's queue.
func (s *Store) checkPage(items []staff.Item) ([]itemCheck, error) {
	checks := make([]itemCheck, len(items))
	known := make([]bool, len(items))
	for i, it := range items {
		if err := checkWireItem(it); err != nil {
			checks[i] = itemCheck{done: true, rejected: err.Error()}
		}
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		ib, rb := tx.Bucket(bItems), tx.Bucket(bRejected)
		for i, it := range items {
			known[i] = (vault.ValidID(it.ID) && ib.Get([]byte(it.ID)) != nil) || rb.Get(rejectedKey(it)) != nil
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to store items: %w", err)
	}
	parallel(len(items), func(i int) {
		if !known[i] && checks[i].rejected == "" {
			checks[i] = s.checkItem(items[i])
		}
	})
	return checks, nil
}

// itemCheck is the result of opening one pulled item.
type itemCheck struct {
	done     bool
	rejected string      // why its labels are refused; it joins no case
	reason   string      // why it is set aside; "" if it opened and matched
	report   *reportText // for a report that opened
}

// checkItem opens a pulled item to find whether it can be trusted, and
// keeps what list shows of a report. The rest of the opened item is dropped.
func (s *Store) checkItem(it staff.Item) itemCheck {
	e, err := vault.Open(it.Sealed, s.m.Identity())
	switch {
	case err != nil:
		return itemCheck{done: true, reason: asideReason(err)}
	case e.Kind != it.Kind || (e.Route != "" && e.Route != it.Route):
		return itemCheck{done: true, reason: "its sealed content does not match its label"}
	case e.Kind == vault.KindReport:
		return itemCheck{done: true, report: &reportText{Preview: preview(e.Field("message")), Danger: e.Field("danger")}}
	}
	return itemCheck{done: true}
}

func asideReason(err error) string {
	switch {
	case errors.Is(err, vault.ErrTampered):
		return "it was changed after it was sealed"
	case errors.Is(err, vault.ErrWrongKey):
		return "it cannot be opened with your key: it was sealed to others, or the part sealed to you was damaged"
	case errors.Is(err, vault.ErrTruncated):
		return "it is incomplete"
	case errors.Is(err, vault.ErrTooLarge):
		return "it is too large"
	}
	return "it is not a sealed Hearken item"
}

// checkWireItem refuses items whose labels could not be ours: the store keys
// records by these strings.
func checkWireItem(it staff.Item) error {
	bad := func(what string) error { return fmt.Errorf("the server sent it with an invalid %s", what) }
	switch {
	case !vault.ValidID(it.ID):
		return bad("id")
	case !vault.ValidID(it.Thread):
		return bad("thread id")
	case !routeName.MatchString(it.Route):
		return bad("route")
	case it.Kind != vault.KindReport && it.Kind != vault.KindFollowUp && it.Kind != vault.KindReply:
		return bad("kind")
	case len(it.Sealed) == 0:
		return bad("content")
	}
	if _, err := time.Parse("2006-01-02", it.Day); err != nil {
		return bad("day")
	}
	return nil
}

// rejectedItem is an item set aside for its labels, as it arrived.
type rejectedItem struct {
	Reason string     `json:"reason"`
	Day    string     `json:"day"` // the local day it arrived
	Item   staff.Item `json:"item"`
}

// rejectedKey is the key of an item in bRejected: its id when that is
// usable, else a hash of the whole item, so a repeat is stored once.
func rejectedKey(it staff.Item) []byte {
	if vault.ValidID(it.ID) {
		return []byte(it.ID)
	}
	data, _ := json.Marshal(it)
	sum := sha256.Sum256(data)
	return []byte("sha256:" + hex.EncodeToString(sum[:]))
}

// rejectedItems lists the items set aside for their labels.
func (s *Store) rejectedItems() ([]SetAsideItem, error) {
	var out []SetAsideItem
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bRejected).ForEach(func(k, v []byte) error {
			var r rejectedItem
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("%w: an unreadable record", ErrStoreCorrupt)
			}
			out = append(out, SetAsideItem{ID: string(k), Reason: r.Reason})
			return nil
		})
	})
	return out, err
}
