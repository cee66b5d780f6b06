package cases

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// SyncResult says what one sync did.
type SyncResult struct {
	Received  int            `json:"received"`   // items new to this computer
	NewCases  []string       `json:"new_cases"`  // case numbers created
	Pushed    int            `json:"pushed"`     // replies the server now holds
	Failed    int            `json:"failed"`     // replies the server will never take
	Acked     int            `json:"acked"`      // items acknowledged
	SetAside  []SetAsideItem `json:"set_aside"`  // items kept but not opened
	KindCount map[string]int `json:"kind_count"` // received items by kind
	// NotDelivered lists replies the server refused in this sync.
	NotDelivered []NotDelivered `json:"not_delivered,omitempty"`
	// DangerNow says a report received in this sync says someone is in
	// danger now; DangerCases are their cases, in the order they came.
	DangerNow   bool     `json:"danger_now"`
	DangerCases []string `json:"danger_now_cases,omitempty"`
	// Fetched says every item the server held for this member was fetched
	// and stored: false when the sync stopped before that.
	Fetched bool `json:"fetched"`
	// Waiting is how many replies written here still wait to be sent.
	Waiting int `json:"waiting"`
	// Undeliverable is how many items the server holds for this member
	// but cannot send until its operator repairs its queue.
	Undeliverable int `json:"undeliverable,omitempty"`
	// Updates counts the team events (triage, notes, ...) received from
	// colleagues; UpdatesSent those written here that the server now holds,
	// and UpdatesWaiting those still waiting to be sent.
	Updates        int `json:"updates"`
	UpdatesSent    int `json:"updates_sent"`
	UpdatesWaiting int `json:"updates_waiting"`
	// NoTeam lists routes whose team updates wait because no team file is
	// recorded for them here.
	NoTeam []string `json:"no_team,omitempty"`
	// Again says the sync first asked the server to send everything again
	// (SyncAgain); Held is how many items the server said it holds for
	// the member, and AskedRecently that it had been asked minutes before.
	Again         bool `json:"again,omitempty"`
	Held          int  `json:"held,omitempty"`
	AskedRecently bool `json:"asked_recently,omitempty"`
	// BeforeJoining lists the cases with items sealed to their route's
	// team before this member joined it (handover.go): they wait until a
	// colleague who can open them hands them over. Colleagues are the
	// other members of those routes' teams, who may. HandedOver counts
	// the items colleagues handed over in this sync.
	BeforeJoining []string `json:"before_joining,omitempty"`
	Colleagues    []string `json:"colleagues,omitempty"`
	HandedOver    int      `json:"handed_over,omitempty"`
}

// SyncAgain asks the server to send again every item it still holds on the
// member's routes, then syncs: for a member on a new or replaced computer,
// or whose store came back from an older backup. Items already here are
// acknowledged again, never stored twice. Items the server no longer holds
// (purged once every member had them, or past retention) cannot come back.
func SyncAgain(ctx context.Context, st *Store, c *Client) (*SyncResult, error) {
	held, err := c.Resend(ctx)
	recent := errors.Is(err, ErrAskedRecently)
	if err != nil && !recent {
		return nil, err
	}
	res, err := Sync(ctx, st, c)
	if res != nil {
		res.Again, res.Held, res.AskedRecently = true, held, recent
	}
	return res, err
}

// SetAsideItem is an item kept but not opened. Case is empty for an item
// whose labels were refused: it belongs to no case.
type SetAsideItem struct {
	Case   string `json:"case,omitempty"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// NotDelivered is a reply the server refused.
type NotDelivered struct {
	Case   string `json:"case"`
	Reason string `json:"reason"`
}

// Sync pulls new items, pushes queued replies and acknowledges what is
// stored. Each step is safe to cut short: a page of items is stored in one
// transaction, replies carry ids the server deduplicates, and
// acknowledgements are repeated until they succeed. The pull always starts
// at the beginning of the member's queue (the server serves only what this
// member has not acknowledged), so no stored cursor can make it skip an
// item; items already here are acknowledged again, never stored twice.
// Replies are pushed and acknowledgements sent even when the pull failed.
//
// Pulling is a pipeline, so that both CPUs stay busy: one page is fetched
// while the one before is opened (on every CPU) and the one before that is
// committed; committed pages are acknowledged in the background. At most
// three pages are held in memory, and an item is acknowledged only after the
// commit that stored it.
func Sync(ctx context.Context, st *Store, c *Client) (*SyncResult, error) {
	return SyncWatched(ctx, st, c, nil)
}

// SyncProgress is how far a sync has come, for a caller to show while it
// runs.
type SyncProgress struct {
	Stage    string // "receiving", "sending replies", "confirming"
	Received int    // items new to this computer so far
	Pushed   int    // replies the server has taken so far
}

// SyncWatched is Sync, calling progress (when not nil) from the syncing
// goroutines as each stage starts and as each page of items is stored.
// progress must be quick and must not use the store.
func SyncWatched(ctx context.Context, st *Store, c *Client, progress func(SyncProgress)) (*SyncResult, error) {
	if progress == nil {
		progress = func(SyncProgress) {}
	}
	res := &SyncResult{KindCount: map[string]int{}}
	// An onion server needs the member's onion key in tor first; a caller
	// that wants the report (the command line) has already asked.
	if c.onion != "" && c.torReport == nil {
		if _, err := c.ConnectTor(ctx, c.Tor); err != nil {
			return res, err
		}
	}
	progress(SyncProgress{Stage: "receiving"})
	teams := newTeamSet(st)
	if err := st.recheck(teams, res); err != nil {
		return res, err
	}
	pullCtx, stopPull := context.WithCancel(ctx)
	defer stopPull()
	pages := make(chan fetched)
	go fetchPages(pullCtx, c, pages)

	a := &acker{ids: make(chan []string, 16), done: make(chan struct{})}
	go a.run(ctx, c)

	checked := make(chan checkedPage)
	commitDone := make(chan error, 1)
	go func() {
		var err error
		for p := range checked {
			if err != nil {
				continue
			}
			var stored pageResult
			if stored, err = st.commitPage(p.items, p.checks, a.confirmed(), teams); err != nil {
				stopPull()
				continue
			}
			res.Received += len(stored.New)
			progress(SyncProgress{Stage: "receiving", Received: res.Received})
			res.NewCases = append(res.NewCases, stored.NewCases...)
			res.SetAside = append(res.SetAside, stored.SetAside...)
			res.DangerCases = append(res.DangerCases, stored.Danger...)
			res.DangerNow = len(res.DangerCases) > 0
			res.Updates += stored.Events
			res.HandedOver += stored.HandedOver
			for _, n := range stored.BeforeJoining {
				if !slices.Contains(res.BeforeJoining, n) {
					res.BeforeJoining = append(res.BeforeJoining, n)
				}
			}
			for _, r := range stored.BeforeRoutes {
				for _, tm := range teamMembers(teams.get(r)) {
					if !bytes.Equal(tm.SignKey, st.m.SigningPublic()) && !slices.Contains(res.Colleagues, tm.Name) {
						res.Colleagues = append(res.Colleagues, tm.Name)
					}
				}
			}
			for _, k := range stored.Kinds {
				res.KindCount[string(k)]++
			}
			ids := make([]string, 0, len(p.items))
			for _, it := range p.items {
				if vault.ValidID(it.ID) {
					ids = append(ids, it.ID)
				}
			}
			a.ids <- ids
		}
		commitDone <- err
	}()

	var pullErr error
	for f := range pages {
		if f.err != nil {
			pullErr = f.err
			break
		}
		res.Undeliverable = max(res.Undeliverable, f.undeliverable)
		if len(f.items) == 0 {
			continue
		}
		checks, err := st.checkPage(f.items, teams)
		if err != nil {
			pullErr = err
			break
		}
		checked <- checkedPage{f.items, checks}
	}
	stopPull()
	for range pages {
	}
	close(checked)
	commitErr := <-commitDone
	close(a.ids)
	<-a.done
	res.Acked += a.acked
	// Forget what the server confirmed after the last commit; if this is
	// lost, the next sync acknowledges those items again, which is harmless.
	ackedErr := st.forgetAcks(a.confirmed())
	// The first error is the one reported; the later steps run anyway,
	// unless the member is not known or the sync was interrupted.
	first := cmp.Or(commitErr, pullErr, a.err, ackedErr)
	res.Fetched = commitErr == nil && pullErr == nil
	if errors.Is(first, ErrNotKnown) || ctx.Err() != nil {
		res.Waiting, res.UpdatesWaiting = st.waitingReplies(), st.waitingEvents()
		return res, first
	}
	progress(SyncProgress{Stage: "sending replies", Received: res.Received})
	if err := pushReplies(ctx, st, c, res); err != nil && first == nil {
		first = err
	}
	if err := pushEvents(ctx, st, c, res); err != nil && first == nil {
		first = err
	}
	// Anything stored but not acknowledged (an earlier step or sync was
	// cut short).
	progress(SyncProgress{Stage: "confirming", Received: res.Received, Pushed: res.Pushed})
	ids, err := st.toAck()
	if err == nil {
		var n int
		n, err = st.ack(ctx, c, ids)
		res.Acked += n
	}
	res.Waiting, res.UpdatesWaiting = st.waitingReplies(), st.waitingEvents()
	return res, cmp.Or(first, err)
}

func teamMembers(t *vault.Team) []vault.TeamMember {
	if t == nil {
		return nil
	}
	return t.Members
}

// pushReplies pushes the outbox in the order the replies were written. A
// reply the server refuses for good (a 4xx) is marked not delivered and the
// others go on; a network or server error stops the pushing, to be retried
// by the next sync.
func pushReplies(ctx context.Context, st *Store, c *Client, res *SyncResult) error {
	out, err := st.outbox()
	if err != nil {
		return err
	}
	for _, o := range out {
		if o.legacy {
			// Written before replies were signed, and not yet sent: sign
			// it now, so colleagues can check who wrote it.
			sealed, err := st.resignReply(o)
			if errors.Is(err, ErrReplyKeyConflict) {
				// Its old copy is sealed to the key this reviewer took
				// then, perhaps a forger's: it waits for reviewer resolve.
				continue
			}
			if err == nil {
				o.Sealed = sealed
			}
		}
		_, code, err := c.reply(ctx, staff.ReplyRequest{Thread: o.Thread, ID: o.ID, Sealed: o.Sealed})
		if err != nil && refusedForGood(code) {
			if err := st.markSent(o.ID, err.Error()); err != nil {
				return err
			}
			res.Failed++
			num, _ := st.caseOfThread(o.Thread)
			res.NotDelivered = append(res.NotDelivered, NotDelivered{Case: num, Reason: err.Error()})
			continue
		}
		if err != nil {
			return err
		}
		if err := st.markSent(o.ID, ""); err != nil {
			return err
		}
		res.Pushed++
	}
	return nil
}

// refusedForGood says a reply's push failed in a way no retry will mend:
// a 4xx other than an authentication failure, a timeout or a rate limit.
func refusedForGood(code int) bool {
	switch code {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return code >= 400 && code < 500
}

// checkedPage is a page whose new items have been opened.
type checkedPage struct {
	items  []staff.Item
	checks []itemCheck
}

// acker acknowledges committed pages in the background. The ids the server
// confirms are forgotten by the store's next commit (commitPage), not by a
// commit of their own.
type acker struct {
	ids  chan []string
	done chan struct{}

	mu    sync.Mutex
	taken []string // confirmed, not yet forgotten by the store

	acked int   // read after done
	err   error // read after done; the first failure stops acking
}

func (a *acker) run(ctx context.Context, c *Client) {
	defer close(a.done)
	for ids := range a.ids {
		for len(ids) > 0 && a.err == nil {
			n := min(len(ids), staff.MaxAcks)
			if _, a.err = c.ack(ctx, ids[:n]); a.err != nil {
				break
			}
			a.mu.Lock()
			a.taken = append(a.taken, ids[:n]...)
			a.mu.Unlock()
			a.acked += n
			ids = ids[n:]
		}
	}
}

// confirmed returns and clears the ids confirmed so far.
func (a *acker) confirmed() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := a.taken
	a.taken = nil
	return ids
}

// fetched is one page of items, or the error that ended the pull.
type fetched struct {
	items         []staff.Item
	undeliverable int // staff.ItemsResponse.Undeliverable
	err           error
}

// fetchPages pulls pages from the beginning, each after the cursor the one
// before it ended with, and sends the non-empty ones to out, which it
// closes at the end. It runs one page ahead of the store. The cursors are
// the server's, opaque and sealed; none is kept.
func fetchPages(ctx context.Context, c *Client, out chan<- fetched) {
	defer close(out)
	send := func(f fetched) bool {
		select {
		case out <- f:
			return true
		case <-ctx.Done():
			return false
		}
	}
	cursor := ""
	for {
		page, err := c.items(ctx, cursor, min(max(c.PageSize, 1), staff.MaxItems))
		if err != nil {
			send(fetched{err: err})
			return
		}
		if len(page.Items) == 0 {
			if page.Undeliverable > 0 {
				send(fetched{undeliverable: page.Undeliverable})
			}
			return
		}
		if !send(fetched{items: page.Items, undeliverable: page.Undeliverable}) || !page.More || page.Next == "" {
			return
		}
		cursor = page.Next
	}
}

// ack acknowledges ids, staff.MaxAcks to a request, and forgets each
// batch once the server confirms it.
func (s *Store) ack(ctx context.Context, c *Client, ids []string) (int, error) {
	acked := 0
	for len(ids) > 0 {
		n := min(len(ids), staff.MaxAcks)
		if _, err := c.ack(ctx, ids[:n]); err != nil {
			return acked, err
		}
		if err := s.forgetAcks(ids[:n]); err != nil {
			return acked, err
		}
		acked += n
		ids = ids[n:]
	}
	return acked, nil
}
