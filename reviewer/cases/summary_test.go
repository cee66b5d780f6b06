package cases

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// TestListOpensNoReport shows list works from the summaries alone: with
// every sealed item replaced by junk, list still shows each case, while
// show finds the items can no longer be opened.
func TestListOpensNoReport(t *testing.T) {
	f := newStoreFixture(t)
	th1, th2 := f.thread(), f.thread()
	page := []staff.Item{
		f.item(t, th1, vault.KindReport, "2026-03-01", "message", "first report\nsecond line", "danger", "yes"),
		f.item(t, th2, vault.KindReport, "2026-03-09", "message", "other report"),
		f.item(t, th1, vault.KindFollowUp, "2026-03-02", "message", "more"),
	}
	if _, err := f.st.storeItems(page); err != nil {
		t.Fatal(err)
	}
	err := f.st.db.Update(func(tx *boltTx) error {
		b := tx.Bucket(bSealed)
		var keys [][]byte
		b.ForEach(func(k, _ []byte) error { keys = append(keys, bytes.Clone(k)); return nil })
		for _, k := range keys {
			if err := b.Put(k, []byte("age-encryption.org/v1\njunk")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := f.st.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Case != "HK-0000-0001" || cs[0].Preview != "first report second line" ||
		cs[0].Danger != "yes" || cs[0].Messages != 2 || cs[0].WaitingDays != 9 || cs[0].Problems != 0 ||
		cs[1].Preview != "other report" || cs[1].WaitingDays != 1 {
		t.Errorf("list: %+v", cs)
	}
	cv, err := f.st.Show(1)
	if err != nil {
		t.Fatal(err)
	}
	if cv.Problems != 2 {
		t.Errorf("show found %d problems, want 2", cv.Problems)
	}
}

func TestStoreListOrder(t *testing.T) {
	f := newStoreFixture(t)
	var page []staff.Item
	threads := make([]string, 5)
	for i := range threads {
		threads[i] = f.thread()
	}
	page = append(page,
		f.item(t, threads[0], vault.KindReport, "2026-03-09"), // HK-1: new, 1 day
		f.item(t, threads[1], vault.KindReport, "2026-03-01"), // HK-2: answered
		f.item(t, threads[1], vault.KindReply, "2026-03-02"),
		f.item(t, threads[2], vault.KindReport, "2026-03-08"), // HK-3: high urgency, answered
		f.item(t, threads[2], vault.KindReply, "2026-03-08"),
		f.item(t, threads[3], vault.KindReport, "2026-02-20"), // HK-4: closed
		f.item(t, threads[4], vault.KindReport, "2026-03-05"), // HK-5: new, 5 days
	)
	if _, err := f.st.storeItems(page); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Triage(3, TriageChange{Urgency: "high"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Triage(4, TriageChange{Status: "closed", Urgency: "immediate"}); err != nil {
		t.Fatal(err)
	}
	cs, err := f.st.List()
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, c := range cs {
		order = append(order, c.Case)
	}
	if got := strings.Join(order, " "); got != "HK-0000-0003 HK-0000-0005 HK-0000-0001 HK-0000-0002 HK-0000-0004" {
		t.Errorf("order %s", got)
	}
	if cs[1].WaitingDays != 5 || !cs[1].Unanswered || cs[3].Unanswered {
		t.Errorf("waiting: %+v / %+v", cs[1], cs[3])
	}
}

// TestSetAsideReplyNoAnswer shows a reply that could not be opened does not
// count as an answer to the reporter.
func TestSetAsideReplyNoAnswer(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	reply := f.item(t, th, vault.KindReply, "2026-03-02", "message", "ok")
	reply.Sealed = bytes.Clone(reply.Sealed)
	reply.Sealed[len(reply.Sealed)-20] ^= 1
	if _, err := f.st.storeItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01", "message", "help"), reply}); err != nil {
		t.Fatal(err)
	}
	cs, _ := f.st.List()
	if !cs[0].Unanswered || cs[0].WaitingDays != 9 {
		t.Errorf("a set-aside reply counted as an answer: %+v", cs[0])
	}
}
