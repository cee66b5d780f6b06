package cases

import (
	"fmt"
	"reflect"
	"testing"

	"filippo.io/age"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

func TestStoreReplyQueue(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	if _, err := f.st.storeItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01", "message", "help")}); err != nil {
		t.Fatal(err)
	}
	id, err := f.st.Reply(1, "We are here for you.", f.team)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := f.st.outbox()
	if len(out) != 1 || out[0].ID != id || out[0].Thread != th {
		t.Fatalf("outbox %+v", out)
	}
	// The reporter, the author and the colleague can all open it.
	for name, id := range map[string]age.Identity{"reporter": f.reply, "author": f.m.Identity(), "peer": f.peer.Identity()} {
		e, err := vault.Open(out[0].Sealed, id)
		if err != nil {
			t.Fatalf("%s cannot open the reply: %v", name, err)
		}
		if e.Field("message") != "We are here for you." || e.Author != "Dana Lead" {
			t.Errorf("%s reads %+v", name, e)
		}
	}
	cs, _ := f.st.List()
	if cs[0].Unanswered || cs[0].Queued != 1 {
		t.Errorf("after a reply: %+v", cs[0])
	}
	if err := f.st.markSent(id, ""); err != nil {
		t.Fatal(err)
	}
	if out, _ := f.st.outbox(); len(out) != 0 {
		t.Fatalf("outbox after send: %+v", out)
	}
	// The reply comes back from the server: no duplicate.
	back := staff.Item{ID: id, Thread: th, Route: "students", Kind: vault.KindReply, Day: "2026-03-10", Sealed: []byte("age-encryption.org/v1\n")}
	got, err := f.st.storeItems([]staff.Item{back})
	if err != nil {
		t.Fatal(err)
	}
	cv, _ := f.st.Show(1)
	if len(got.New) != 0 || len(cv.Messages) != 2 || cv.Messages[1].State != "sent" {
		t.Errorf("returned reply: new %v, messages %+v", got.New, cv.Messages)
	}
	// Without a team file there is no reply.
	if _, err := teamFor(t.TempDir(), "students", []string{"students"}); err == nil {
		t.Error("TeamFor without a team file succeeded")
	}
}

// TestOwnReplyComesBack shows a reply the server holds is never "not
// delivered": its copy coming back takes it out of the outbox, and a later
// refusal does not mark it failed.
func TestOwnReplyComesBack(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	if _, err := f.st.storeItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01", "message", "help")}); err != nil {
		t.Fatal(err)
	}
	id, err := f.st.Reply(1, "We are here.", f.team)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := f.st.outbox()
	// The push reached the server but its answer was lost; the next pull
	// brings the reply back.
	back := staff.Item{ID: id, Thread: th, Route: "students", Kind: vault.KindReply, Day: "2026-03-10", Sealed: out[0].Sealed}
	if _, err := f.st.storeItems([]staff.Item{back}); err != nil {
		t.Fatal(err)
	}
	if out, _ := f.st.outbox(); len(out) != 0 {
		t.Fatalf("a reply the server holds is still queued: %d", len(out))
	}
	if err := f.st.markSent(id, "the server refused: conflict (HTTP 409)"); err != nil {
		t.Fatal(err)
	}
	cv, _ := f.st.Show(1)
	if cv.Messages[1].State != "sent" {
		t.Errorf("reply state %q, want sent", cv.Messages[1].State)
	}
}

// TestOutboxOrder shows replies are pushed in the order they were written.
func TestOutboxOrder(t *testing.T) {
	f := newStoreFixture(t)
	if _, err := f.st.storeItems([]staff.Item{f.item(t, f.thread(), vault.KindReport, "2026-03-01", "message", "x")}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 0; i < 12; i++ {
		id, err := f.st.Reply(1, fmt.Sprintf("reply %d", i), f.team)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	out, err := f.st.outbox()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range out {
		got = append(got, o.ID)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("outbox order %v, want %v", got, want)
	}
}
