package cases

import (
	"context"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// forgedReport is a report a malicious server seals to the team itself,
// with a reply recipient of its own, for an existing thread.
func (f *storeFixture) forgedReport(t *testing.T, thread string, attacker *age.HybridIdentity) staff.Item {
	t.Helper()
	e := &vault.Envelope{Kind: vault.KindReport, Day: "2026-03-02", Route: "students",
		Fields:  []vault.Field{{Name: "message", Value: "please answer me here instead"}},
		ReplyTo: attacker.Recipient().String()}
	sealed, err := vault.Seal(e, f.team.Recipients()...)
	if err != nil {
		t.Fatal(err)
	}
	return staff.Item{ID: uuid.NewString(), Thread: thread, Route: "students", Kind: vault.KindReport, Day: "2026-03-02", Sealed: sealed}
}

// TestForgedReportCannotRedirectReplies: a malicious server adds a second
// report, with its own reply recipient, to an existing thread. Whether the
// member already had the thread or receives both at once (the forged one
// first), the second report is set aside and flagged, and no reply is
// sealed until a lead resolves which reply key is the reporter's.
func TestForgedReportCannotRedirectReplies(t *testing.T) {
	attacker, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	opens := func(t *testing.T, st *Store, id *age.HybridIdentity) bool {
		t.Helper()
		out, err := st.outbox()
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out {
			if _, err := vault.Open(o.Sealed, id); err == nil {
				return true
			}
		}
		return false
	}

	t.Run("after the thread is known", func(t *testing.T) {
		f := newStoreFixture(t)
		th := uuid.NewString()
		if _, err := f.st.storeItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01", "message", "they hurt me")}); err != nil {
			t.Fatal(err)
		}
		n := caseNumberOf(t, f.st, th)
		res, err := f.st.storeItems([]staff.Item{f.forgedReport(t, th, attacker)})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.SetAside) != 1 {
			t.Errorf("the second report was not set aside: %+v", res)
		}
		if _, err := f.st.Reply(n, "We are here for you.", f.team); err == nil {
			t.Error("a reply was sealed while the case presents two reply keys")
		}
		if opens(t, f.st, attacker) {
			t.Fatal("the reply was sealed to the server's key")
		}
		// Show names both keys by fingerprint; the lead keeps the first.
		cv, err := f.st.Show(n)
		if err != nil {
			t.Fatal(err)
		}
		genuine := Fingerprint(f.reply.Recipient().String())
		if cv.ReplyKey != genuine || len(cv.KeyClaims) != 1 || cv.KeyClaims[0].Fingerprint != Fingerprint(attacker.Recipient().String()) ||
			!strings.Contains(cv.KeyProblem, "reviewer resolve") || !cv.ReplyKeyConflict {
			t.Errorf("show: key %s claims %+v problem %q", cv.ReplyKey, cv.KeyClaims, cv.KeyProblem)
		}
		if err := f.st.Resolve(n, "NOT-A-KEY"); err == nil {
			t.Error("resolved to a key the case was never given")
		}
		if err := f.st.Resolve(n, strings.ToLower(genuine)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.Reply(n, "We are here for you.", f.team); err != nil {
			t.Fatal(err)
		}
		if opens(t, f.st, attacker) || !opens(t, f.st, f.reply) {
			t.Fatal("after resolving, the reply is not sealed to the reporter alone")
		}
		cv, _ = f.st.Show(n)
		if cv.KeyProblem != "" || cv.KeyClaims[0].Settled == "" || cv.Chronology[len(cv.Chronology)-1].What != "reply" {
			t.Errorf("after resolving: %+v %q", cv.KeyClaims, cv.KeyProblem)
		}
	})

	t.Run("both at once, the forged one first", func(t *testing.T) {
		f := newStoreFixture(t)
		th := uuid.NewString()
		forged := f.forgedReport(t, th, attacker)
		genuine := f.item(t, th, vault.KindReport, "2026-03-01", "message", "they hurt me")
		if _, err := f.st.storeItems([]staff.Item{forged, genuine}); err != nil {
			t.Fatal(err)
		}
		n := caseNumberOf(t, f.st, th)
		if _, err := f.st.Reply(n, "We are here for you.", f.team); err == nil {
			t.Error("a reply was sealed while the case presents two reply keys")
		}
		if opens(t, f.st, attacker) {
			t.Fatal("the reply was sealed to the server's key")
		}
		// This computer pinned the forged key; comparing fingerprints
		// with a colleague, the lead chooses the other, and the forged
		// report is set aside in its place.
		keep := Fingerprint(f.reply.Recipient().String())
		if err := f.st.Resolve(n, keep); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.Reply(n, "We are here for you.", f.team); err != nil {
			t.Fatal(err)
		}
		if opens(t, f.st, attacker) || !opens(t, f.st, f.reply) {
			t.Fatal("after resolving, the reply is not sealed to the reporter alone")
		}
		cv, _ := f.st.Show(n)
		if cv.ReplyKey != keep || cv.Preview != "they hurt me" {
			t.Errorf("after resolving: key %s, preview %q", cv.ReplyKey, cv.Preview)
		}
		for _, m := range cv.Messages {
			if m.Kind == vault.KindReport && (m.Problem == "") == (m.field("message") == "please answer me here instead") {
				t.Errorf("report %q: problem %q", m.field("message"), m.Problem)
			}
		}
	})

	t.Run("a follow-up presenting a key", func(t *testing.T) {
		f := newStoreFixture(t)
		th := uuid.NewString()
		fu := f.item(t, th, vault.KindFollowUp, "2026-03-02", "message", "answer here")
		e := f.reopen(t, fu)
		e.ReplyTo = attacker.Recipient().String()
		sealed, _ := vault.Seal(e, f.team.Recipients()...)
		fu.Sealed = sealed
		res, err := f.st.storeItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01", "message", "x"), fu})
		if err != nil || len(res.SetAside) != 1 || !strings.Contains(res.SetAside[0].Reason, "follow-up presented a reply key") {
			t.Fatalf("%+v, %v", res, err)
		}
		if _, err := f.st.Reply(caseNumberOf(t, f.st, th), "hello", f.team); !errors.Is(err, ErrReplyKeyConflict) {
			t.Errorf("reply: %v", err)
		}
	})

	t.Run("a colleague holds another key", func(t *testing.T) {
		f := newStoreFixture(t)
		th := uuid.NewString()
		ev := f.event(t, th, f.peer, 1, eventData{Type: evNote, Text: "noted", ReplyKey: Fingerprint(attacker.Recipient().String())})
		if _, err := f.st.storeItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01", "message", "x"), ev}); err != nil {
			t.Fatal(err)
		}
		n := caseNumberOf(t, f.st, th)
		cv, _ := f.st.Show(n)
		if !strings.Contains(cv.KeyProblem, "Sam Deputy's reviewer") {
			t.Errorf("problem %q", cv.KeyProblem)
		}
		if _, err := f.st.Reply(n, "hello", f.team); !errors.Is(err, ErrReplyKeyConflict) {
			t.Errorf("reply: %v", err)
		}
		// The key is not here to choose; keeping ours settles it.
		if err := f.st.Resolve(n, Fingerprint(attacker.Recipient().String())); err == nil || !strings.Contains(err.Error(), "has it") {
			t.Errorf("resolve to a key not here: %v", err)
		}
		if err := f.st.Resolve(n, Fingerprint(f.reply.Recipient().String())); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.Reply(n, "hello", f.team); err != nil {
			t.Error(err)
		}
	})
}

// caseNumberOf finds the case of thread.
func caseNumberOf(t *testing.T, st *Store, thread string) uint64 {
	t.Helper()
	all, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		if c.Thread == thread {
			n, err := ParseCaseNumber(c.Case)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no case for thread %s", thread)
	return 0
}

// TestPageSummaryReadsItsOwnPins: a page that pins a case's reply key and
// then brings a second report with another key lists the case as in
// conflict: the summary reads the pin as the page left it.
func TestPageSummaryReadsItsOwnPins(t *testing.T) {
	attacker, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	f := newStoreFixture(t)
	th, calm := uuid.NewString(), uuid.NewString()
	page := []staff.Item{
		f.item(t, th, vault.KindReport, "2026-03-01", "message", "they hurt me"),
		f.item(t, calm, vault.KindReport, "2026-03-01", "message", "all is well"),
		f.forgedReport(t, th, attacker),
	}
	if _, err := f.st.storeItems(page); err != nil {
		t.Fatal(err)
	}
	all, err := f.st.List()
	if err != nil || len(all) != 2 {
		t.Fatalf("%+v, %v", all, err)
	}
	for _, cs := range all {
		if cs.ReplyKeyConflict != (cs.Thread == th) || cs.Preview == "" {
			t.Errorf("case %s (%q): reply-key conflict %v", cs.Case, cs.Preview, cs.ReplyKeyConflict)
		}
	}
}

// TestLegacyReplyWaitsOnKeyConflict: a reply written before replies were
// signed, and not yet sent, is signed and sealed again to the pinned reply
// key when it is sent. While its case presents two reply keys it is not
// sent at all: its old copy is sealed to whichever key this reviewer took
// when it was written, which may be a forger's.
func TestLegacyReplyWaitsOnKeyConflict(t *testing.T) {
	attacker, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	f := newStoreFixture(t)
	th := uuid.NewString()
	if _, err := f.st.storeItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01", "message", "they hurt me")}); err != nil {
		t.Fatal(err)
	}
	id, err := f.st.Reply(caseNumberOf(t, f.st, th), "We are here for you.", f.team)
	if err != nil {
		t.Fatal(err)
	}
	// As an older reviewer left it: unsigned, waiting in the outbox.
	err = f.st.db.Update(func(tx *bolt.Tx) error {
		var m itemMeta
		if err := getJSON(tx.Bucket(bItems), []byte(id), &m); err != nil {
			return err
		}
		m.Legacy = true
		return putJSON(tx.Bucket(bItems), []byte(id), m)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.storeItems([]staff.Item{f.forgedReport(t, th, attacker)}); err != nil {
		t.Fatal(err)
	}
	fs, c := newFakeStaff(t, f.st, nil)
	res, err := Sync(context.Background(), f.st, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs.pushed) != 0 || res.Pushed != 0 {
		t.Fatalf("a reply was sent while its case presents two reply keys: %+v", res)
	}
	if out, _ := f.st.outbox(); len(out) != 1 || res.Waiting != 1 {
		t.Errorf("the reply does not wait: outbox %d, waiting %d", len(out), res.Waiting)
	}
}
