package cases

import (
	"fmt"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// putItem adds a new item and indexes it under its thread. Sealed items
// are keyed by arrival order, so a page of them is appended at the end of
// the bucket rather than scattered through it.
func putItem(tx *bolt.Tx, m itemMeta, sealed []byte) error {
	items := tx.Bucket(bItems)
	order, err := items.NextSequence()
	if err != nil {
		return err
	}
	m.Order = order
	if err := putJSON(items, []byte(m.ID), m); err != nil {
		return err
	}
	sb := tx.Bucket(bSealed)
	sb.FillPercent = 1
	if err := sb.Put(be(order), sealed); err != nil {
		return err
	}
	return tx.Bucket(bThreadItems).Put(threadKey(m.Thread, order), []byte(m.ID))
}

// pageResult reports what one storeItems call did.
type pageResult struct {
	New      []string       // ids of items new to this store
	NewCases []string       // case numbers created
	SetAside []SetAsideItem // new items that could not be opened
	Rejected int            // of those, items set aside for their labels (no case)
	Danger   []string       // cases of new reports that say someone is in danger now
}

// storeItems checks and stores a page of pulled items. Each new item is
// opened once, on every CPU, to catch tampering and to take what list shows
// of a report; then the items, their set-aside marks, the summaries of their
// cases are written in one transaction, so an item is stored
// exactly once however a sync is cut short. Items already present (a
// repeated page, or a reply written here) are left as they are.
func (s *Store) storeItems(items []staff.Item) (pageResult, error) {
	checks, err := s.checkPage(items)
	if err != nil {
		return pageResult{}, err
	}
	return s.commitPage(items, checks, nil)
}

// commitPage stores a checked page in one transaction, and forgets acked:
// ids the server has confirmed since the last commit.
func (s *Store) commitPage(items []staff.Item, checks []itemCheck, acked []string) (pageResult, error) {
	var st pageResult
	err := s.db.Update(func(tx *bolt.Tx) error {
		st = pageResult{}
		ib, tb := tx.Bucket(bItems), tx.Bucket(bToAck)
		for _, id := range acked {
			if err := tb.Delete([]byte(id)); err != nil {
				return err
			}
		}
		var touched []string
		seen := map[string]bool{}
		touch := func(thread string) {
			if !seen[thread] {
				seen[thread] = true
				touched = append(touched, thread)
			}
		}
		reports := map[string]reportText{}
		rb, ob := tx.Bucket(bRejected), tx.Bucket(bOutbox)
		for i, it := range items {
			if vault.ValidID(it.ID) {
				// pageResult or set aside, it is acknowledged, so it leaves
				// this member's view.
				if err := tb.Put([]byte(it.ID), []byte{}); err != nil {
					return err
				}
			}
			if vault.ValidID(it.ID) && ib.Get([]byte(it.ID)) != nil {
				var m itemMeta
				if err := getJSON(ib, []byte(it.ID), &m); err != nil {
					return err
				}
				if m.Mine && (!m.Sent || m.Failed != "" || ob.Get([]byte(it.ID)) != nil) {
					// Our own reply, back from the server: it was
					// delivered, whatever an earlier push was told.
					m.Sent, m.Failed = true, ""
					if err := putJSON(ib, []byte(it.ID), m); err != nil {
						return err
					}
					if err := ob.Delete([]byte(it.ID)); err != nil {
						return err
					}
					touch(m.Thread)
				}
				continue
			}
			ck := checks[i]
			if !ck.done {
				// Present when the page was checked, gone now: check it
				// here, so that nothing is stored unchecked.
				if err := checkWireItem(it); err != nil {
					ck = itemCheck{done: true, rejected: err.Error()}
				} else {
					ck = s.checkItem(it)
				}
			}
			if ck.rejected != "" {
				key := rejectedKey(it)
				if rb.Get(key) != nil {
					continue
				}
				if err := putJSON(rb, key, rejectedItem{Reason: ck.rejected, Day: s.today(), Item: it}); err != nil {
					return err
				}
				st.SetAside = append(st.SetAside, SetAsideItem{ID: string(key), Reason: ck.rejected})
				st.Rejected++
				continue
			}
			c, fresh, err := caseFor(tx, it.Thread, it.Route, s.today())
			if err != nil {
				return err
			}
			if fresh {
				st.NewCases = append(st.NewCases, CaseNumber(c.Number))
			}
			m := itemMeta{ID: it.ID, Thread: it.Thread, Route: it.Route,
				Kind: it.Kind, Day: it.Day, Sent: true}
			if err := putItem(tx, m, it.Sealed); err != nil {
				return err
			}
			if ck.reason != "" {
				if err := tx.Bucket(bAside).Put([]byte(it.ID), []byte(ck.reason)); err != nil {
					return err
				}
				st.SetAside = append(st.SetAside, SetAsideItem{Case: CaseNumber(c.Number), ID: it.ID, Reason: ck.reason})
			}
			if ck.report != nil {
				reports[it.ID] = *ck.report
				if dangerNow(ck.report.Danger) {
					st.Danger = append(st.Danger, CaseNumber(c.Number))
				}
			}
			touch(it.Thread)
			st.New = append(st.New, it.ID)
		}
		for _, thread := range touched {
			if err := s.refreshDigest(tx, thread, reports); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return pageResult{}, fmt.Errorf("failed to store items: %w", err)
	}
	return st, nil
}
