package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// TestSyncResumesExactlyOnce cuts the connection mid-list, mid-push and
// mid-ack, syncs again each time, and checks that every item and the reply
// exist exactly once on both sides.
func TestSyncResumesExactlyOnce(t *testing.T) {
	dana, err := vault.GenerateMember("Dana Lead")
	if err != nil {
		t.Fatal(err)
	}
	sam, err := vault.GenerateMember("Sam Deputy")
	if err != nil {
		t.Fatal(err)
	}
	team := parseTeam(t, dana, sam)
	srv := newStaffServer(t, t.TempDir(), map[string]*vault.Team{"students": team})
	const reports = 7
	for i := 0; i < reports; i++ {
		srv.report(t, "students", fmt.Sprintf("report number %d", i))
	}

	dir := t.TempDir()
	st, err := cases.Open(dir, dana, true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := cases.NewClient(srv.srv.URL, "", dana)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.PageSize = 2
	ctx := context.Background()

	// The second page is cut halfway through its body.
	srv.cut("GET", staff.ItemsPath, pass, cutResponse)
	if _, err := cases.Sync(ctx, st, c); err == nil {
		t.Fatal("sync over a cut connection reported success")
	}
	all, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("after the cut: %d cases stored, want the 2 of the first page", len(all))
	}
	res, err := cases.Sync(ctx, st, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Received != reports-2 || len(res.NewCases) != reports-2 {
		t.Errorf("resumed sync received %d (cases %v), want %d", res.Received, res.NewCases, reports-2)
	}
	checkCases(t, st, reports)

	// A reply whose push is handled by the server but never answered.
	if _, err := st.Reply(srv.caseOf(t, 2), "Thank you for telling us.", team); err != nil {
		t.Fatal(err)
	}
	srv.cut("POST", staff.RepliesPath, cutAfter)
	if _, err := cases.Sync(ctx, st, c); err == nil {
		t.Fatal("sync with a dropped push reported success")
	}
	if n := queued(t, st); n != 1 {
		t.Fatalf("the unconfirmed reply left the outbox: %d queued", n)
	}
	// Acks are cut too: stored first, then the answer is lost.
	srv.cut("POST", staff.AcksPath, cutAfter)
	if _, err := cases.Sync(ctx, st, c); err == nil {
		t.Fatal("sync with a dropped ack reported success")
	}
	res, err = cases.Sync(ctx, st, c)
	if err != nil {
		t.Fatal(err)
	}
	// The reply was pushed again (a no-op on the server) in this sync or
	// the one before; either way nothing new arrives and nothing is queued.
	if res.Received != 0 || res.Pushed > 1 {
		t.Errorf("final sync: %+v", res)
	}
	if n := queued(t, st); n != 0 {
		t.Fatalf("%d replies still queued", n)
	}
	// Nothing is left to acknowledge: one more sync has nothing to do.
	if res, err := cases.Sync(ctx, st, c); err != nil || res.Received != 0 || res.Pushed != 0 || res.Acked != 0 {
		t.Errorf("a sync after the last: %+v, %v", res, err)
	}
	checkCases(t, st, reports)

	// The server holds exactly one reply, and the reporter reads it.
	replies := 0
	items, _, err := srv.store.Pending("", 1000, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Kind == vault.KindReply {
			replies++
		}
	}
	if replies != 1 {
		t.Errorf("the server queue holds %d replies, want 1", replies)
	}
	cv, err := st.Show(srv.caseOf(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	var receipt vault.Receipt
	found := false
	for _, r := range srv.receipts {
		ti, err := srv.store.Thread(r)
		if err == nil && ti.ID == cv.Thread {
			receipt, found = r, true
		}
	}
	if !found {
		t.Fatal("no receipt for the third case's thread")
	}
	got, _, err := srv.store.Replies(receipt)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Field("message") != "Thank you for telling us." || got[0].Author != "Dana Lead" {
		t.Errorf("the reporter sees %d replies: %+v", len(got), got)
	}
	// Sam, the other member, gets the reports and Dana's reply once each.
	samDir := t.TempDir()
	sst, err := cases.Open(samDir, sam, true)
	if err != nil {
		t.Fatal(err)
	}
	defer sst.Close()
	sc, _ := cases.NewClient(srv.srv.URL, "", sam)
	defer sc.Close()
	if res, err := cases.Sync(ctx, sst, sc); err != nil || res.Received != reports+1 {
		t.Fatalf("sam's sync: %+v, %v", res, err)
	}
	// Both members have acknowledged everything: the queue is empty.
	if items, _, _ := srv.store.Pending("", 1000, nil, ""); len(items) != 0 {
		t.Errorf("queue still holds %d items after both members synced", len(items))
	}
}

// queued returns how many replies wait in st's outbox for a sync.
func queued(t *testing.T, st *cases.Store) int {
	t.Helper()
	all, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, cs := range all {
		n += cs.Queued
	}
	return n
}

func checkCases(t *testing.T, st *cases.Store, want int) {
	t.Helper()
	all, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != want {
		t.Fatalf("%d cases, want %d", len(all), want)
	}
	seen := map[string]bool{}
	for _, cs := range all {
		if seen[cs.Preview] {
			t.Errorf("report %q stored twice", cs.Preview)
		}
		seen[cs.Preview] = true
		if cs.Problems != 0 {
			t.Errorf("%s has problems", cs.Case)
		}
	}
}

// TestSyncUnknownMember shows the advice a member not in the team gets.
func TestSyncUnknownMember(t *testing.T) {
	dana, _ := vault.GenerateMember("Dana Lead")
	stranger, _ := vault.GenerateMember("Stranger")
	srv := newStaffServer(t, t.TempDir(), map[string]*vault.Team{"students": parseTeam(t, dana)})
	st, err := cases.Open(t.TempDir(), stranger, true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, _ := cases.NewClient(srv.srv.URL, "", stranger)
	defer c.Close()
	_, err = cases.Sync(context.Background(), st, c)
	if err != cases.ErrNotKnown {
		t.Fatalf("err = %v", err)
	}
}

// TestSyncRouteAddedLater shows a member added to a route's team after
// their first sync receives that route's older reports on the next sync,
// and can reply on it only once that route's team is recorded.
func TestSyncRouteAddedLater(t *testing.T) {
	dana, _ := vault.GenerateMember("Dana Lead")
	head, _ := vault.GenerateMember("Head Teacher")
	srv := newStaffServer(t, t.TempDir(), map[string]*vault.Team{
		"students": parseTeam(t, dana), "head": parseTeam(t, head)})
	// The report is sealed to Dana too, but the server's team file for
	// the route does not list her yet.
	e := &vault.Envelope{Fields: []vault.Field{{Name: "message", Value: "a concern about a member of staff"}}}
	if _, err := srv.store.CreateThread("head", e, parseTeam(t, head, dana).Recipients()); err != nil {
		t.Fatal(err)
	}
	srv.report(t, "students", "a student report")

	st, err := cases.Open(t.TempDir(), dana, true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, _ := cases.NewClient(srv.srv.URL, "", dana)
	defer c.Close()
	ctx := context.Background()
	if res, err := cases.Sync(ctx, st, c); err != nil || res.Received != 1 {
		t.Fatalf("first sync: %+v, %v", res, err)
	}
	srv.restart(map[string]*vault.Team{"students": parseTeam(t, dana), "head": parseTeam(t, head, dana)})
	res, err := cases.Sync(ctx, st, c)
	if err != nil || res.Received != 1 || res.KindCount["report"] != 1 {
		t.Fatalf("sync after joining the head route: %+v, %v", res, err)
	}
	all, _ := st.List()
	if len(all) != 2 {
		t.Fatalf("%d cases, want 2", len(all))
	}
	// Nothing is left for Dana, and nothing was stored twice.
	if res, err := cases.Sync(ctx, st, c); err != nil || res.Received != 0 {
		t.Fatalf("third sync: %+v, %v", res, err)
	}
	checkCases(t, st, 2)
}
