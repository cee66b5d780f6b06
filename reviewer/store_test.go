package reviewer

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

type storeFixture struct {
	dir   string
	m     *vault.Member
	peer  *vault.Member
	team  *vault.Team
	st    *Store
	seq   uint64
	reply *age.HybridIdentity // a thread's reply identity, as the reporter holds it
	now   time.Time
}

func newStoreFixture(t *testing.T) *storeFixture {
	t.Helper()
	f := &storeFixture{dir: t.TempDir(), now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	var err error
	if f.m, err = vault.GenerateMember("Dana Lead"); err != nil {
		t.Fatal(err)
	}
	if f.peer, err = vault.GenerateMember("Sam Deputy"); err != nil {
		t.Fatal(err)
	}
	if f.team, err = vault.ParseTeam(strings.NewReader(f.m.TeamLine() + "\n" + f.peer.TeamLine())); err != nil {
		t.Fatal(err)
	}
	if f.reply, err = age.GenerateHybridIdentity(); err != nil {
		t.Fatal(err)
	}
	f.open(t)
	return f
}

func (f *storeFixture) open(t *testing.T) {
	t.Helper()
	st, err := OpenStore(f.dir, f.m, true)
	if err != nil {
		t.Fatal(err)
	}
	st.now = func() time.Time { return f.now }
	f.st = st
	t.Cleanup(func() { st.Close() })
}

// item seals an envelope to the team as the server would and labels it.
func (f *storeFixture) item(t *testing.T, thread string, kind vault.Kind, day string, fields ...string) staff.Item {
	t.Helper()
	e := &vault.Envelope{Kind: kind, Day: day, Route: "students"}
	for i := 0; i+1 < len(fields); i += 2 {
		e.Fields = append(e.Fields, vault.Field{Name: fields[i], Value: fields[i+1]})
	}
	if kind == vault.KindReport {
		e.ReplyTo = f.reply.Recipient().String()
	}
	if kind == vault.KindReply {
		e.Author = "Sam Deputy"
	}
	sealed, err := vault.Seal(e, f.team.Recipients()...)
	if err != nil {
		t.Fatal(err)
	}
	f.seq++
	return staff.Item{Seq: f.seq, ID: uuid.NewString(), Thread: thread, Route: "students", Kind: kind, Day: day, Sealed: sealed}
}

func TestStoreItemsExactlyOnce(t *testing.T) {
	f := newStoreFixture(t)
	th1, th2 := uuid.NewString(), uuid.NewString()
	page := []staff.Item{
		f.item(t, th1, vault.KindReport, "2026-03-01", "message", "first"),
		f.item(t, th2, vault.KindReport, "2026-03-02", "message", "second"),
		f.item(t, th1, vault.KindFollowUp, "2026-03-03", "message", "more"),
	}
	got, err := f.st.StoreItems(page)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.New) != 3 || strings.Join(got.NewCases, ",") != "HK-0001,HK-0002" {
		t.Fatalf("stored %+v", got)
	}
	// The same page again (a response that was stored but whose sync was
	// cut before the cursor was used) adds nothing.
	again, err := f.st.StoreItems(page)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.New) != 0 || len(again.NewCases) != 0 {
		t.Fatalf("a repeated page stored %+v", again)
	}
	if c, _ := f.st.Cursor(); c != 3 {
		t.Errorf("cursor %d, want 3", c)
	}
	refs, _ := f.st.ToAck()
	if len(refs) != 3 {
		t.Errorf("%d items to ack, want 3", len(refs))
	}
	cases, err := f.st.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 {
		t.Fatalf("%d cases", len(cases))
	}
	if cases[0].Case != "HK-0001" || cases[0].Messages != 2 || cases[0].Preview != "first" {
		t.Errorf("case 1: %+v", cases[0])
	}
	// Case numbers survive reopening.
	f.st.Close()
	f.open(t)
	cv, err := f.st.Show(2)
	if err != nil {
		t.Fatal(err)
	}
	if cv.Thread != th2 || cv.Messages[0].Fields[0].Value != "second" {
		t.Errorf("HK-0002 is %+v", cv.CaseSummary)
	}
	// A bad label sets that item aside, outside any case; the rest of
	// the page is stored.
	bad := f.item(t, th1, vault.KindFollowUp, "2026-03-04")
	good := f.item(t, th1, vault.KindFollowUp, "2026-03-04")
	bad.ID = "../../etc"
	got, err = f.st.StoreItems([]staff.Item{good, bad})
	if err != nil || len(got.New) != 1 || len(got.SetAside) != 1 || got.SetAside[0].Case != "" || !strings.Contains(got.SetAside[0].Reason, "invalid id") {
		t.Fatalf("a page with a bad id: %+v, %v", got, err)
	}
	if cv, _ := f.st.Show(1); len(cv.Messages) != 3 {
		t.Errorf("case 1 has %d messages, want 3", len(cv.Messages))
	}
}

func TestStoreEncryptedAtRest(t *testing.T) {
	f := newStoreFixture(t)
	th := uuid.NewString()
	if _, err := f.st.StoreItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01",
		"message", "zebra-report-words", "danger", "yak-danger-words")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.AddNote(1, "giraffe-note-words", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.SetTriageFields(1, TriageChange{Category: "neglect", Assign: "okapi-assignee"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Reply(1, "walrus-reply-words", f.team); err != nil {
		t.Fatal(err)
	}
	// The case summary holds the report's first words, its danger answer,
	// the category and the assignee: list shows them without opening it.
	cs, err := f.st.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Preview != "zebra-report-words" || cs[0].Danger != "yak-danger-words" ||
		cs[0].Category != "neglect" || cs[0].Assigned != "okapi-assignee" || cs[0].Queued != 1 {
		t.Fatalf("list: %+v", cs)
	}
	var summaries int
	f.st.db.View(func(tx *boltTx) error {
		summaries = tx.Bucket(bSummaries).Stats().KeyN
		return nil
	})
	if summaries != 1 {
		t.Fatalf("%d case summaries stored, want 1", summaries)
	}
	dataKey := rawDataKey(t, f)
	f.st.Close()
	raw, err := os.ReadFile(StorePath(f.dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"zebra", "yak-danger", "giraffe", "okapi", "walrus", "neglect", "triaged"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the store file holds %q in the clear", s)
		}
	}
	if bytes.Contains(raw, dataKey) {
		t.Error("the store file holds its data key in the clear")
	}
	f.open(t)
	cv, err := f.st.Show(1)
	if err != nil {
		t.Fatal(err)
	}
	if cv.Category != "neglect" || cv.Status != "triaged" || cv.Assigned != "okapi-assignee" {
		t.Errorf("triage: %+v", cv.CaseSummary)
	}
	var whats []string
	for _, l := range cv.Chronology {
		whats = append(whats, l.What+":"+l.Text)
	}
	joined := strings.Join(whats, "|")
	for _, want := range []string{"report received", "note:giraffe-note-words", "triage:category: (none) → neglect", "reply:queued"} {
		if !strings.Contains(joined, want) {
			t.Errorf("chronology lacks %q: %s", want, joined)
		}
	}
}

// rawDataKey opens the store's wrapped data key as a member's own note.
func rawDataKey(t *testing.T, f *storeFixture) []byte {
	t.Helper()
	var wrapped []byte
	f.st.db.View(func(tx *boltTx) error {
		wrapped = bytes.Clone(tx.Bucket(bMeta).Get(kDataKey))
		return nil
	})
	e, err := vault.Open(wrapped, f.m.Identity())
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != vault.KindNote {
		t.Fatalf("the data key is wrapped as a %q", e.Kind)
	}
	if _, err := vault.Open(wrapped, f.peer.Identity()); err == nil {
		t.Fatal("a colleague can unwrap this member's data key")
	}
	key, err := base64.StdEncoding.DecodeString(e.Field(dataKeyField))
	if err != nil || len(key) != 32 {
		t.Fatalf("data key: %d bytes, %v", len(key), err)
	}
	return key
}

// TestListOpensNoReport shows list works from the summaries alone: with
// every sealed item replaced by junk, list still shows each case, while
// show finds the items can no longer be opened.
func TestListOpensNoReport(t *testing.T) {
	f := newStoreFixture(t)
	th1, th2 := uuid.NewString(), uuid.NewString()
	page := []staff.Item{
		f.item(t, th1, vault.KindReport, "2026-03-01", "message", "first report\nsecond line", "danger", "yes"),
		f.item(t, th2, vault.KindReport, "2026-03-09", "message", "other report"),
		f.item(t, th1, vault.KindFollowUp, "2026-03-02", "message", "more"),
	}
	if _, err := f.st.StoreItems(page); err != nil {
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
	if len(cs) != 2 || cs[0].Case != "HK-0001" || cs[0].Preview != "first report second line" ||
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

// TestLocalRecordsBound shows a sealed local record only opens under the
// bucket and key it was sealed for: one case's summary or triage moved onto
// another case is refused, not shown.
func TestLocalRecordsBound(t *testing.T) {
	f := newStoreFixture(t)
	th1, th2 := uuid.NewString(), uuid.NewString()
	page := []staff.Item{
		f.item(t, th1, vault.KindReport, "2026-03-01", "message", "one"),
		f.item(t, th2, vault.KindReport, "2026-03-02", "message", "two"),
	}
	if _, err := f.st.StoreItems(page); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.SetTriageFields(1, TriageChange{Urgency: "immediate"}); err != nil {
		t.Fatal(err)
	}
	move := func(bucket []byte, from, to string) {
		t.Helper()
		err := f.st.db.Update(func(tx *boltTx) error {
			b := tx.Bucket(bucket)
			return b.Put([]byte(to), bytes.Clone(b.Get([]byte(from))))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	move(bTriage, th1, th2)
	if _, err := f.st.Show(2); !errors.Is(err, ErrStoreCorrupt) {
		t.Errorf("show with a moved triage record: %v", err)
	}
	if err := f.st.db.Update(func(tx *boltTx) error { return tx.Bucket(bTriage).Delete([]byte(th2)) }); err != nil {
		t.Fatal(err)
	}
	// A summary is a digest of the case's own records: a moved one is not
	// shown; list rebuilds it from the case's records and flags the case.
	move(bSummaries, th1, th2)
	// A record sealed for another bucket under the same key is refused too.
	err := f.st.db.Update(func(tx *boltTx) error {
		return tx.Bucket(bSummaries).Put([]byte(th1), bytes.Clone(tx.Bucket(bTriage).Get([]byte(th1))))
	})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := f.st.List()
	if err != nil {
		t.Fatal(err)
	}
	byCase := map[string]CaseSummary{}
	for _, c := range cs {
		byCase[c.Case] = c
	}
	one, two := byCase["HK-0001"], byCase["HK-0002"]
	if one.Preview != "one" || one.Urgency != "immediate" || one.Problems != 1 ||
		two.Preview != "two" || two.Urgency != "" || two.Problems != 1 {
		t.Errorf("list with damaged summaries: %+v", cs)
	}
	// The next change to a case writes a good summary again.
	if _, err := f.st.SetTriageFields(2, TriageChange{Urgency: "low"}); err != nil {
		t.Fatal(err)
	}
	cs, _ = f.st.List()
	for _, c := range cs {
		if c.Case == "HK-0002" && (c.Problems != 0 || c.Preview != "two" || c.Urgency != "low") {
			t.Errorf("HK-0002 after a change: %+v", c)
		}
	}
}

// TestStoreOldSchema refuses a store of another schema without touching it.
func TestStoreOldSchema(t *testing.T) {
	f := newStoreFixture(t)
	f.st.db.Update(func(tx *boltTx) error { return tx.Bucket(bMeta).Put(kSchema, []byte("1")) })
	f.st.Close()
	before, _ := os.ReadFile(StorePath(f.dir))
	if _, err := OpenStore(f.dir, f.m, true); !errors.Is(err, ErrStoreCorrupt) || !strings.Contains(err.Error(), "another version") {
		t.Errorf("old schema: %v", err)
	}
	if after, _ := os.ReadFile(StorePath(f.dir)); !bytes.Equal(before, after) {
		t.Error("opening an old store changed it")
	}
}

func TestLocalKeyRedacted(t *testing.T) {
	f := newStoreFixture(t)
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		if got := fmt.Sprintf(format, f.st.key); got != "[REDACTED]" {
			t.Errorf("%s prints the data key as %q", format, got)
		}
	}
}

func TestStoreReplyQueue(t *testing.T) {
	f := newStoreFixture(t)
	th := uuid.NewString()
	if _, err := f.st.StoreItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01", "message", "help")}); err != nil {
		t.Fatal(err)
	}
	id, err := f.st.Reply(1, "We are here for you.", f.team)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := f.st.Outbox()
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
	if err := f.st.MarkSent(id, 9, ""); err != nil {
		t.Fatal(err)
	}
	if out, _ := f.st.Outbox(); len(out) != 0 {
		t.Fatalf("outbox after send: %+v", out)
	}
	// The reply comes back from the server: no duplicate.
	back := staff.Item{Seq: 9, ID: id, Thread: th, Route: "students", Kind: vault.KindReply, Day: "2026-03-10", Sealed: []byte("age-encryption.org/v1\n")}
	got, err := f.st.StoreItems([]staff.Item{back})
	if err != nil {
		t.Fatal(err)
	}
	cv, _ := f.st.Show(1)
	if len(got.New) != 0 || len(cv.Messages) != 2 || cv.Messages[1].State != "sent" {
		t.Errorf("returned reply: new %v, messages %+v", got.New, cv.Messages)
	}
	// Without a team file there is no reply.
	if _, err := TeamFor(f.dir, "students", []string{"students"}); err == nil {
		t.Error("TeamFor without a team file succeeded")
	}
}

func TestStoreListOrder(t *testing.T) {
	f := newStoreFixture(t)
	var page []staff.Item
	threads := make([]string, 5)
	for i := range threads {
		threads[i] = uuid.NewString()
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
	if _, err := f.st.StoreItems(page); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.SetTriageFields(3, TriageChange{Urgency: "high"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.SetTriageFields(4, TriageChange{Status: "closed", Urgency: "immediate"}); err != nil {
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
	if got := strings.Join(order, " "); got != "HK-0003 HK-0005 HK-0001 HK-0002 HK-0004" {
		t.Errorf("order %s", got)
	}
	if cs[1].WaitingDays != 5 || !cs[1].Unanswered || cs[3].Unanswered {
		t.Errorf("waiting: %+v / %+v", cs[1], cs[3])
	}
}

func TestStoreTamperedSetAside(t *testing.T) {
	f := newStoreFixture(t)
	th := uuid.NewString()
	good := f.item(t, th, vault.KindReport, "2026-03-01", "message", "ok")
	bad := f.item(t, th, vault.KindFollowUp, "2026-03-02", "message", "changed")
	bad.Sealed = bytes.Clone(bad.Sealed)
	bad.Sealed[len(bad.Sealed)-20] ^= 1
	stored, err := f.st.StoreItems([]staff.Item{good, bad})
	if err != nil {
		t.Fatal(err)
	}
	aside := stored.SetAside
	if len(aside) != 1 || aside[0].ID != bad.ID || aside[0].Case != "HK-0001" || !strings.Contains(aside[0].Reason, "changed") {
		t.Fatalf("set aside: %+v", aside)
	}
	cv, err := f.st.Show(1)
	if err != nil {
		t.Fatal(err)
	}
	if cv.Problems != 1 || cv.Messages[1].Problem == "" || cv.Messages[0].Problem != "" {
		t.Errorf("show: %+v", cv.Messages)
	}
	// Kept unchanged.
	var kept []byte
	f.st.db.View(func(tx *boltTx) error {
		var m itemMeta
		if err := getJSON(tx.Bucket(bItems), []byte(bad.ID), &m); err != nil {
			return err
		}
		kept = bytes.Clone(tx.Bucket(bSealed).Get(be(m.Order)))
		return nil
	})
	if !bytes.Equal(kept, bad.Sealed) {
		t.Error("the tampered item was not kept as received")
	}
}

func TestStoreRefusals(t *testing.T) {
	f := newStoreFixture(t)
	f.st.Close()
	// Another identity.
	other, _ := vault.GenerateMember("Other")
	if _, err := OpenStore(f.dir, other, false); !errors.Is(err, ErrOtherIdentity) {
		t.Errorf("other identity: %v", err)
	}
	// No store yet, without create.
	if _, err := OpenStore(t.TempDir(), f.m, false); !errors.Is(err, ErrNoStore) {
		t.Errorf("missing store: %v", err)
	}
	// A damaged store is refused, and left exactly as it was.
	path := StorePath(f.dir)
	data, _ := os.ReadFile(path)
	for i := 0; i < 8192 && i < len(data); i++ {
		data[i] = 0xAA
	}
	os.WriteFile(path, data, 0o600)
	before, _ := os.ReadFile(path)
	_, err := OpenStore(f.dir, f.m, true)
	if !errors.Is(err, ErrStoreCorrupt) || !strings.Contains(err.Error(), "not recreate") {
		t.Errorf("corrupt store: %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("opening a damaged store changed it")
	}
	// An empty file is damaged too, not a new store.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, storeFile), nil, 0o600)
	if _, err := OpenStore(dir, f.m, true); !errors.Is(err, ErrStoreCorrupt) {
		t.Errorf("empty store: %v", err)
	}
}

func TestTriageWords(t *testing.T) {
	for in, want := range map[string]string{"In-Progress": "in progress", "in_progress": "in progress", "CLOSED": "closed"} {
		if got, err := ParseStatus(in); err != nil || got != want {
			t.Errorf("ParseStatus(%q) = %q, %v", in, got, err)
		}
	}
	if got, _ := ParseCategory("self-harm"); got != "self-harm or suicide risk" {
		t.Errorf("prefix: %q", got)
	}
	if _, err := ParseUrgency("urgent"); err == nil || !strings.Contains(err.Error(), "immediate") {
		t.Errorf("bad urgency: %v", err)
	}
	for in, want := range map[string]uint64{"HK-0007": 7, "hk7": 7, "12": 12, "#3": 3} {
		if got, err := ParseCaseNumber(in); err != nil || got != want {
			t.Errorf("ParseCaseNumber(%q) = %d, %v", in, got, err)
		}
	}
	if _, err := ParseCaseNumber("HK-0000"); err == nil {
		t.Error("case 0 accepted")
	}
}

func TestNoteCorrections(t *testing.T) {
	f := newStoreFixture(t)
	if _, err := f.st.StoreItems([]staff.Item{f.item(t, uuid.NewString(), vault.KindReport, "2026-03-01")}); err != nil {
		t.Fatal(err)
	}
	n, err := f.st.AddNote(1, "spoke to head of year", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.AddNote(1, "it was the deputy head", n); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.AddNote(1, "x", 99); err == nil {
		t.Error("a correction of a missing entry was accepted")
	}
	cv, _ := f.st.Show(1)
	var lines []string
	for _, l := range cv.Chronology {
		lines = append(lines, l.What+":"+l.Text)
	}
	got := strings.Join(lines, "|")
	if !strings.Contains(got, "note:spoke to head of year|correction to entry 1:it was the deputy head") {
		t.Errorf("chronology %s", got)
	}
}

type boltTx = bolt.Tx

// TestSetAsideReplyNoAnswer shows a reply that could not be opened does not
// count as an answer to the reporter.
func TestSetAsideReplyNoAnswer(t *testing.T) {
	f := newStoreFixture(t)
	th := uuid.NewString()
	reply := f.item(t, th, vault.KindReply, "2026-03-02", "message", "ok")
	reply.Sealed = bytes.Clone(reply.Sealed)
	reply.Sealed[len(reply.Sealed)-20] ^= 1
	if _, err := f.st.StoreItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01", "message", "help"), reply}); err != nil {
		t.Fatal(err)
	}
	cs, _ := f.st.List()
	if !cs[0].Unanswered || cs[0].WaitingDays != 9 {
		t.Errorf("a set-aside reply counted as an answer: %+v", cs[0])
	}
}

// TestFollowUpWithoutReport shows a case whose report never reached this
// computer says so, in show and in reply.
func TestFollowUpWithoutReport(t *testing.T) {
	f := newStoreFixture(t)
	th := uuid.NewString()
	if _, err := f.st.StoreItems([]staff.Item{f.item(t, th, vault.KindFollowUp, "2026-03-02", "message", "more")}); err != nil {
		t.Fatal(err)
	}
	cv, err := f.st.Show(1)
	if err != nil {
		t.Fatal(err)
	}
	tag := strings.ReplaceAll(th, "-", "")[:8]
	if cv.Tag != tag || !strings.Contains(cv.Notice, "never reached this computer") || !strings.Contains(cv.Notice, "export-sealed") || !strings.Contains(cv.Notice, "#"+tag) {
		t.Errorf("show: tag %q, notice %q", cv.Tag, cv.Notice)
	}
	if _, err := f.st.Reply(1, "hello", f.team); err == nil || !strings.Contains(err.Error(), "never reached this computer") {
		t.Errorf("reply: %v", err)
	}
	if cs, _ := f.st.List(); cs[0].Tag != tag {
		t.Errorf("list tag %q", cs[0].Tag)
	}
}

// TestTeamForRoute shows a reply is sealed only to a team recorded for its
// route: a team given without a route serves the one route this computer
// has, and no other.
func TestTeamForRoute(t *testing.T) {
	dir := t.TempDir()
	m, _ := vault.GenerateMember("Dana Lead")
	src := filepath.Join(dir, "in.txt")
	os.WriteFile(src, []byte(m.TeamLine()+"\n"), 0o600)
	store := filepath.Join(dir, "store")
	if _, r, err := InstallTeam(store, src, "", nil); err != nil || r != "" {
		t.Fatalf("install before any case: %q, %v", r, err)
	}
	if _, err := TeamFor(store, "students", []string{"students"}); err != nil {
		t.Errorf("the only route: %v", err)
	}
	want := "no team is recorded for this route on this computer (route head), so reviewer cannot tell who may read this reply: run reviewer init --team FILE --route head with that route's team file from the person who runs Hearken"
	if _, err := TeamFor(store, "head", []string{"head", "students"}); err == nil || err.Error() != want {
		t.Errorf("head with two routes: %v", err)
	}
	if _, err := TeamFor(store, "students", []string{"head", "students"}); !errors.Is(err, ErrNoTeam) {
		t.Errorf("the default team used with two routes: %v", err)
	}
	if _, r, err := InstallTeam(store, src, "", []string{"head", "students"}); err == nil || r != "" {
		t.Errorf("install without a route over two routes: %q, %v", r, err)
	}
	if _, r, err := InstallTeam(store, src, "", []string{"students"}); err != nil || r != "students" {
		t.Errorf("install for the one route: %q, %v", r, err)
	}
	if _, err := TeamFor(store, "students", []string{"head", "students"}); err != nil {
		t.Errorf("students after its own team: %v", err)
	}
	if _, err := TeamFor(store, "head", []string{"head", "students"}); err == nil || err.Error() != want {
		t.Errorf("head: %v", err)
	}
	if _, _, err := InstallTeam(store, src, "Head_Office", nil); err == nil {
		t.Error("a bad route name was accepted")
	}
}
