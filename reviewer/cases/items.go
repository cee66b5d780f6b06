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
	Kinds    []vault.Kind   // what each of New is (a team item: reply or event)
	NewCases []string       // case numbers created
	SetAside []SetAsideItem // new items that could not be opened
	Rejected int            // of those, items set aside for their labels (no case)
	Danger   []string       // cases of new reports that say someone is in danger now
	Events   int            // team events among the new items
	// BeforeJoining are the cases of new items sealed to the team without
	// this member, which wait for a handover (one entry per item).
	BeforeJoining, BeforeRoutes []string
	HandedOver                  int // items placed from handovers
}

// storeItems checks and stores a page of pulled items. Each new item is
// opened once, on every CPU, to catch tampering and to take what list shows
// of a report; then the items, their set-aside marks, the summaries of their
// cases are written in one transaction, so an item is stored
// exactly once however a sync is cut short. Items already present (a
// repeated page, or a reply written here) are left as they are.
func (s *Store) storeItems(items []staff.Item) (pageResult, error) {
	teams := newTeamSet(s)
	checks, err := s.checkPage(items, teams)
	if err != nil {
		return pageResult{}, err
	}
	return s.commitPage(items, checks, nil, teams)
}

// commitPage stores a checked page in one transaction, and forgets acked:
// ids the server has confirmed since the last commit.
func (s *Store) commitPage(items []staff.Item, checks []itemCheck, acked []string, teams *teamSet) (pageResult, error) {
	var st pageResult
	err := s.db.Update(func(tx *bolt.Tx) error {
		defer s.cachePins(tx)()
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
					teams.load(it.Route)
					ck = s.checkItem(it, teams)
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
			if err := s.placeKeys(tx, it, &ck); err != nil {
				return err
			}
			kind := ck.kind
			if kind == "" {
				kind = it.Kind
			}
			m := itemMeta{ID: it.ID, Thread: it.Thread, Route: it.Route,
				Kind: kind, Day: it.Day, Sent: true}
			if ck.team != nil && ck.team.mine && kind == vault.KindReply {
				m.Mine = true // written here, and the store since restored
			}
			if err := putItem(tx, m, it.Sealed); err != nil {
				return err
			}
			if ck.reason != "" {
				if err := tx.Bucket(bAside).Put([]byte(it.ID), []byte(ck.reason)); err != nil {
					return err
				}
				if ck.recheck {
					if err := tx.Bucket(bRecheck).Put([]byte(it.ID), []byte(it.Thread)); err != nil {
						return err
					}
				}
				if ck.reason == asideBeforeJoining {
					st.BeforeJoining = append(st.BeforeJoining, CaseNumber(c.Number))
					st.BeforeRoutes = append(st.BeforeRoutes, it.Route)
				} else {
					st.SetAside = append(st.SetAside, SetAsideItem{Case: CaseNumber(c.Number), ID: it.ID, Reason: ck.reason})
				}
			}
			if ck.team != nil && kind == vault.KindEvent {
				n, refused, err := s.keepEvent(tx, it.Thread, it.Route, ck.team, teams, reports)
				if err != nil {
					return err
				}
				st.Events++
				st.HandedOver += n
				if refused != "" {
					st.SetAside = append(st.SetAside, SetAsideItem{Case: CaseNumber(c.Number), ID: it.ID, Reason: refused})
				}
			}
			if ck.report != nil && ck.reason == "" {
				reports[it.ID] = *ck.report
				if dangerNow(ck.report.Danger) {
					st.Danger = append(st.Danger, CaseNumber(c.Number))
				}
			}
			touch(it.Thread)
			st.New = append(st.New, it.ID)
			st.Kinds = append(st.Kinds, kind)
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

// keepEvent stores a checked team event and, for a handover, places the
// items it carries; refused says why any of them were left out.
func (s *Store) keepEvent(tx *bolt.Tx, thread, route string, tc *teamCheck, teams *teamSet, reports map[string]reportText) (handedOver int, refused string, err error) {
	if err := s.storeEvent(tx, thread, tc); err != nil {
		return 0, "", err
	}
	if tc.data.Type != evHandover {
		return 0, "", nil
	}
	n, bad, err := s.placeHandover(tx, thread, route, tc, teams, reports)
	if err != nil || bad == 0 {
		return n, "", err
	}
	return n, handoverRefused(bad, tc), nil
}

// storeEvent keeps a verified team event; one written here that comes
// back from the server has been delivered.
func (s *Store) storeEvent(tx *bolt.Tx, thread string, tc *teamCheck) error {
	if _, err := s.putEvent(tx, thread, eventRec{Signed: tc.env.Signed, Sig: tc.env.Sig, Name: tc.name, Mine: tc.mine}, tc.signed.ID); err != nil {
		return err
	}
	return tx.Bucket(bEventOut).Delete([]byte(tc.signed.ID))
}

// placeKeys applies the one-report rule to a new item (replykey.go): the
// first report of a thread pins its reply key; a later report, or a
// follow-up that presents a key, is set aside, and a key other than the
// pinned one, from it or from a colleague's team item, is recorded for a
// lead to resolve.
func (s *Store) placeKeys(tx *bolt.Tx, it staff.Item, ck *itemCheck) error {
	switch {
	case ck.kind == vault.KindReport && ck.reason == "":
		p, err := s.ensurePin(tx, it.Thread)
		if err != nil {
			return err
		}
		if p == nil {
			// The first report here that opens (one before it that did
			// not is set aside and flagged already).
			return s.putPin(tx, it.Thread, &pinRec{ReplyTo: ck.replyTo, Item: it.ID})
		}
		ck.reason = asideSecondReport
		if ck.replyTo != "" && ck.replyTo != p.ReplyTo {
			ck.reason += "; it presents another reply key"
			p.claim(keyClaim{Fingerprint: Fingerprint(ck.replyTo), ReplyTo: ck.replyTo, Item: it.ID, From: "a second report", Day: it.Day})
			return s.putPin(tx, it.Thread, p)
		}
	case ck.kind == vault.KindFollowUp && ck.reason == "" && ck.replyTo != "":
		ck.reason = asideFollowUpKey
		p, err := s.ensurePin(tx, it.Thread)
		if err != nil || p == nil {
			return err
		}
		if p.claim(keyClaim{Fingerprint: Fingerprint(ck.replyTo), ReplyTo: ck.replyTo, Item: it.ID, From: "a follow-up", Day: it.Day}) {
			return s.putPin(tx, it.Thread, p)
		}
	case ck.team != nil && !ck.team.mine && ck.team.data.ReplyKey != "":
		// (ck.team is only set for a team item that checked out, so
		// never for one set aside.)
		p, err := s.ensurePin(tx, it.Thread)
		if err != nil || p == nil {
			return err
		}
		if p.claim(keyClaim{Fingerprint: ck.team.data.ReplyKey, From: ck.team.name + "'s reviewer", Day: it.Day}) {
			return s.putPin(tx, it.Thread, p)
		}
	}
	return nil
}
