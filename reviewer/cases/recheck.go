package cases

import (
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// recheck checks again the team items set aside because no team file was
// recorded for their route, for the routes that have one now. What checks
// out joins its case as if it had just arrived; what does not stays set
// aside, for its new reason.
func (s *Store) recheck(teams *teamSet, res *SyncResult) error {
	type waiting struct {
		it   staff.Item
		meta itemMeta
	}
	var items []waiting
	err := s.db.View(func(tx *bolt.Tx) error {
		ib, sb := tx.Bucket(bItems), tx.Bucket(bSealed)
		return tx.Bucket(bRecheck).ForEach(func(id, thread []byte) error {
			var m itemMeta
			if err := getJSON(ib, id, &m); err != nil {
				return err
			}
			items = append(items, waiting{staff.Item{ID: m.ID, Thread: m.Thread, Route: m.Route,
				Kind: m.Kind, Day: m.Day, Sealed: append([]byte(nil), sb.Get(be(m.Order))...)}, m})
			return nil
		})
	})
	if err != nil || len(items) == 0 {
		return err
	}
	var todo []waiting
	for _, w := range items {
		teams.load(w.it.Route)
		if teams.get(w.it.Route) != nil {
			todo = append(todo, w)
		}
	}
	checks := make([]itemCheck, len(todo))
	parallel(len(todo), func(i int) { checks[i] = s.checkItem(todo[i].it, teams) })
	return s.db.Update(func(tx *bolt.Tx) error {
		for i, w := range todo {
			ck := checks[i]
			if err := tx.Bucket(bRecheck).Delete([]byte(w.it.ID)); err != nil {
				return err
			}
			if err := s.placeKeys(tx, w.it, &ck); err != nil {
				return err
			}
			m := w.meta
			if ck.kind != "" {
				m.Kind = ck.kind
			}
			if err := putJSON(tx.Bucket(bItems), []byte(m.ID), m); err != nil {
				return err
			}
			ab := tx.Bucket(bAside)
			if ck.reason != "" {
				if err := ab.Put([]byte(m.ID), []byte(ck.reason)); err != nil {
					return err
				}
				if ck.recheck {
					if err := tx.Bucket(bRecheck).Put([]byte(m.ID), []byte(m.Thread)); err != nil {
						return err
					}
				}
			} else if err := ab.Delete([]byte(m.ID)); err != nil {
				return err
			}
			if ck.team != nil && ck.kind == vault.KindEvent {
				n, refused, err := s.keepEvent(tx, m.Thread, m.Route, ck.team, teams, nil)
				if err != nil {
					return err
				}
				res.Updates++
				res.HandedOver += n
				if refused != "" {
					// The case's own number: another case may have had
					// the one its thread gives first.
					var c caseRec
					if err := getJSON(tx.Bucket(bThreads), []byte(m.Thread), &c); err != nil {
						return err
					}
					res.SetAside = append(res.SetAside, SetAsideItem{Case: CaseNumber(c.Number), ID: m.ID, Reason: refused})
				}
			}
			if err := s.refreshDigest(tx, m.Thread, nil); err != nil {
				return err
			}
		}
		return nil
	})
}
