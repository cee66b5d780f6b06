package reviewer

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"sync"

	"github.com/hearken-project/hearken/vault"
)

// SyncResult says what one sync did.
type SyncResult struct {
	Received  int            `json:"received"`   // items new to this computer
	NewCases  []string       `json:"new_cases"`  // case numbers created
	Pushed    int            `json:"pushed"`     // replies the server now holds
	Failed    int            `json:"failed"`     // replies the server will never take
	Acked     int            `json:"acked"`      // items acknowledged
	SetAside  []SetAsideItem `json:"set_aside"`  // items that could not be opened
	KindCount map[string]int `json:"kind_count"` // received items by kind
}

// SetAsideItem is an item kept but not opened.
type SetAsideItem struct {
	Case   string `json:"case"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Sync pulls new items, pushes queued replies and acknowledges what is
// stored. Each step is safe to cut short: items are stored with the cursor
// in one transaction, replies carry ids the server deduplicates, and
// acknowledgements are repeated until they succeed.
func Sync(ctx context.Context, st *Store, c *Client) (*SyncResult, error) {
	res := &SyncResult{KindCount: map[string]int{}}
	cursor, err := st.Cursor()
	if err != nil {
		return res, err
	}
	// Each stored page is checked (opened) and acknowledged in the
	// background while the next page is fetched; one page at a time, so
	// memory stays bounded. Acks are only ever sent after the commit.
	var (
		bg    chan error
		bgRes pageResult
	)
	wait := func() error {
		if bg == nil {
			return nil
		}
		err := <-bg
		bg = nil
		res.SetAside = append(res.SetAside, bgRes.aside...)
		res.Acked += bgRes.acked
		bgRes = pageResult{}
		return err
	}
	for {
		page, err := c.Items(ctx, cursor, min(max(c.PageSize, 1), vault.StaffMaxItems))
		if err != nil {
			wait()
			return res, err
		}
		if len(page.Items) == 0 {
			break
		}
		stored, err := st.StoreItems(page.Items)
		if err != nil {
			wait()
			return res, err
		}
		res.Received += len(stored.New)
		res.NewCases = append(res.NewCases, stored.NewCases...)
		fresh := map[string]bool{}
		for _, id := range stored.New {
			fresh[id] = true
		}
		var toCheck []vault.WireItem
		refs := make([]AckRef, 0, len(page.Items))
		for _, it := range page.Items {
			cursor = max(cursor, it.Seq)
			refs = append(refs, AckRef{ID: it.ID, Seq: it.Seq})
			if fresh[it.ID] {
				res.KindCount[string(it.Kind)]++
				toCheck = append(toCheck, it)
			}
		}
		if err := wait(); err != nil {
			return res, err
		}
		bg = make(chan error, 1)
		go func(done chan error) {
			aside, err := st.checkItems(toCheck)
			bgRes.aside = aside
			if err == nil {
				bgRes.acked, err = st.ack(ctx, c, refs)
			}
			done <- err
		}(bg)
		if !page.More {
			break
		}
	}
	if err := wait(); err != nil {
		return res, err
	}

	out, err := st.Outbox()
	if err != nil {
		return res, err
	}
	for _, o := range out {
		resp, code, err := c.Reply(ctx, vault.ReplyRequest{Thread: o.Thread, ID: o.ID, Sealed: o.Sealed})
		if code == http.StatusNotFound || code == http.StatusRequestEntityTooLarge || code == http.StatusConflict {
			if err := st.MarkSent(o.ID, 0, err.Error()); err != nil {
				return res, err
			}
			res.Failed++
			continue
		}
		if err != nil {
			return res, err
		}
		if err := st.MarkSent(o.ID, resp.Item.Seq, ""); err != nil {
			return res, err
		}
		res.Pushed++
	}

	// Anything stored but not acknowledged (an earlier sync was cut short).
	refs, err := st.ToAck()
	if err != nil {
		return res, err
	}
	n, err := st.ack(ctx, c, refs)
	res.Acked += n
	if err != nil {
		return res, err
	}
	return res, nil
}

type pageResult struct {
	aside []SetAsideItem
	acked int
}

// ack acknowledges refs in batches and forgets each batch once the server
// confirms it.
func (st *Store) ack(ctx context.Context, c *Client, refs []AckRef) (int, error) {
	acked := 0
	for len(refs) > 0 {
		n := min(len(refs), vault.StaffMaxAcks)
		if _, err := c.Ack(ctx, refs[:n]); err != nil {
			return acked, err
		}
		ids := make([]string, n)
		for i, r := range refs[:n] {
			ids[i] = r.ID
		}
		if err := st.Acked(ids); err != nil {
			return acked, err
		}
		acked += n
		refs = refs[n:]
	}
	return acked, nil
}

// checkItems opens newly stored items to find any that cannot be trusted,
// and sets those aside (kept, never opened again silently, reported).
func (st *Store) checkItems(items []vault.WireItem) ([]SetAsideItem, error) {
	type result struct {
		id, reason string
	}
	results := make([]result, len(items))
	parallel(len(items), func(i int) {
		it := items[i]
		e, err := vault.Open(it.Sealed, st.m.Identity())
		switch {
		case err != nil:
			results[i] = result{it.ID, asideReason(err)}
		case e.Kind != it.Kind || (e.Route != "" && e.Route != it.Route):
			results[i] = result{it.ID, "its sealed content does not match its label"}
		}
	})
	var out []SetAsideItem
	for i, r := range results {
		if r.reason == "" {
			continue
		}
		if err := st.SetAside(r.id, r.reason); err != nil {
			return out, err
		}
		num := ""
		if n, err := st.caseNumberOf(items[i].Thread); err == nil {
			num = CaseNumber(n)
		}
		out = append(out, SetAsideItem{Case: num, ID: r.id, Reason: r.reason})
	}
	return out, nil
}

func asideReason(err error) string {
	switch {
	case errors.Is(err, vault.ErrTampered):
		return "it was changed after it was sealed"
	case errors.Is(err, vault.ErrWrongKey):
		return "it was not sealed to your key"
	case errors.Is(err, vault.ErrTruncated):
		return "it is incomplete"
	case errors.Is(err, vault.ErrTooLarge):
		return "it is too large"
	}
	return "it is not a sealed Hearken item"
}

// parallel runs f(0..n-1) on every CPU.
func parallel(n int, f func(int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
