package cases

import (
	"context"
	"errors"
	"slices"
	"sort"

	"filippo.io/age"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// Sending team events. An event is sealed when it is sent, to the team
// file recorded here for the case's route at that moment, so a member
// added to it since the event was written still receives it, and one
// removed does not. It travels like a reply (staff.RepliesPath), as the
// same kind of item, so the server cannot tell the two apart: it is also
// sealed to a stand-in key that nobody holds, first, where a reply has
// the reporter's key, so an event and a reply have as many stanzas. The
// server keeps it until every current member of the route has fetched it.

// pendingEvent is an event written here that waits to be sent.
type pendingEvent struct {
	thread string
	rec    eventRec
	ev     *event // its Route is the case's, set when it was written
}

// eventOutbox lists the events waiting to be sent, oldest first.
func (s *Store) eventOutbox() ([]pendingEvent, error) {
	var out []pendingEvent
	err := s.db.View(func(tx *bolt.Tx) error {
		eb := tx.Bucket(bEvents)
		return tx.Bucket(bEventOut).ForEach(func(id, thread []byte) error {
			k := eventKey(string(thread), string(id))
			v := eb.Get(k)
			if v == nil {
				return ErrStoreCorrupt
			}
			var r eventRec
			if err := s.key.open(bEvents, k, v, &r); err != nil {
				return err
			}
			ev, err := decodeEvent(r)
			if err != nil {
				return ErrStoreCorrupt
			}
			out = append(out, pendingEvent{thread: string(thread), rec: r, ev: ev})
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return eventLess(out[i].ev, out[j].ev) < 0 })
	return out, err
}

// teamRecipients returns the recipient of every member of team, in the
// team file's order, and the member's own last if the file leaves them
// out: the author of a team item can read it when it comes back (or
// after a restore).
func (s *Store) teamRecipients(team *vault.Team) []age.Recipient {
	var out []age.Recipient
	self := s.m.Recipient().String()
	haveSelf := false
	for _, tm := range team.Members {
		out = append(out, tm.Recipient)
		haveSelf = haveSelf || tm.Recipient.String() == self
	}
	if !haveSelf {
		out = append(out, s.m.Recipient())
	}
	return out
}

// sealEvent seals an event as signed to team, behind a stand-in key.
func (s *Store) sealEvent(p pendingEvent, team *vault.Team) ([]byte, error) {
	standIn, err := age.GenerateHybridIdentity()
	if err != nil {
		return nil, err
	}
	recipients := append([]age.Recipient{standIn.Recipient()}, s.teamRecipients(team)...)
	e := &vault.Envelope{Kind: vault.KindEvent, Day: p.ev.Day, Route: p.ev.Route, Signed: p.rec.Signed, Sig: p.rec.Sig}
	sealed, err := vault.Seal(e, recipients...)
	if err != nil {
		return nil, err
	}
	if len(sealed) > vault.MaxReplySize {
		return nil, errors.New("a team update is too large to send")
	}
	return sealed, nil
}

// pushEvents sends the events written here, oldest first. One the server
// refuses for good (a 4xx: the case is gone from the server) is kept here,
// marked not delivered; a network or server error stops the sending, to be
// retried by the next sync. Events of a route without a team file here
// wait, and the route is named in res.NoTeam.
func pushEvents(ctx context.Context, st *Store, c *Client, res *SyncResult) error {
	out, err := st.eventOutbox()
	if err != nil {
		return err
	}
	type teamOf struct {
		team *vault.Team
		err  error
	}
	teams := map[string]teamOf{} // route -> its team file, read once
	for _, p := range out {
		t, ok := teams[p.ev.Route]
		if !ok {
			t.team, t.err = st.TeamFor(p.ev.Route)
			teams[p.ev.Route] = t
		}
		team, err := t.team, t.err
		if err != nil {
			if !slices.Contains(res.NoTeam, p.ev.Route) {
				res.NoTeam = append(res.NoTeam, p.ev.Route)
			}
			continue
		}
		sealed, err := st.sealEvent(p, team)
		if err != nil {
			return err
		}
		_, code, err := c.reply(ctx, staff.ReplyRequest{Thread: p.thread, ID: p.ev.ID, Sealed: sealed})
		if err != nil && refusedForGood(code) {
			if err := st.eventSent(p, nil, err.Error()); err != nil {
				return err
			}
			num, _ := st.caseOfThread(p.thread)
			res.NotDelivered = append(res.NotDelivered, NotDelivered{Case: num, Reason: "a team update: " + err.Error()})
			continue
		}
		if err != nil {
			return err
		}
		if err := st.eventSent(p, sealed, ""); err != nil {
			return err
		}
		res.UpdatesSent++
	}
	return nil
}

// eventSent records that the server holds an event written here (kept as
// an item, as sealed), or with failed, why it never will.
func (s *Store) eventSent(p pendingEvent, sealed []byte, failed string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bEventOut).Delete([]byte(p.ev.ID)); err != nil {
			return err
		}
		if failed != "" {
			r := p.rec
			r.Failed = failed
			k := eventKey(p.thread, p.ev.ID)
			v, err := s.key.seal(bEvents, k, r)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bEvents).Put(k, v); err != nil {
				return err
			}
		} else if tx.Bucket(bItems).Get([]byte(p.ev.ID)) == nil {
			m := itemMeta{ID: p.ev.ID, Thread: p.thread, Route: p.ev.Route, Kind: vault.KindEvent,
				Day: s.today(), Mine: true, Sent: true}
			if err := putItem(tx, m, sealed); err != nil {
				return err
			}
		}
		return s.refreshDigest(tx, p.thread, nil)
	})
}
