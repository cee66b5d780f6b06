package cases

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// TestAttachmentInMemory reads an attachment without writing a file or a
// chronology line, and refuses places that hold none.
func TestAttachmentInMemory(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	e := &vault.Envelope{Kind: vault.KindReport, Day: "2026-03-01", Route: "students", ReplyTo: f.reply.Recipient().String(),
		Fields:      []vault.Field{{Name: "message", Value: "see the photo"}},
		Attachments: []vault.Attachment{{Name: "attachment-1.png", Type: "image/png", Cleaned: true, Data: []byte("\x89PNG fake")}}}
	sealed, err := vault.Seal(e, f.team.Recipients()...)
	if err != nil {
		t.Fatal(err)
	}
	items := []staff.Item{
		{ID: uuid.NewString(), Thread: th, Route: "students", Kind: vault.KindReport, Day: "2026-03-01", Sealed: sealed},
		f.item(t, th, vault.KindFollowUp, "2026-03-02", "message", "no file here"),
	}
	if _, err := f.st.storeItems(items); err != nil {
		t.Fatal(err)
	}
	a, err := f.st.Attachment(1, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Type != "image/png" || !a.Cleaned || a.Size != 9 || !bytes.Equal(a.Data, []byte("\x89PNG fake")) {
		t.Errorf("attachment: %+v", a.AttachmentInfo)
	}
	for _, at := range [][2]int{{0, 1}, {1, 0}, {2, 0}, {-1, 0}, {0, -1}} {
		if _, err := f.st.Attachment(1, at[0], at[1]); !errors.Is(err, ErrNoAttachment) {
			t.Errorf("attachment %v: %v", at, err)
		}
	}
	if _, err := f.st.Attachment(9, 0, 0); !errors.Is(err, ErrNoCase) {
		t.Errorf("no case: %v", err)
	}
	cv, _ := f.st.Show(1)
	for _, l := range cv.Chronology {
		if l.What == "export" {
			t.Errorf("reading an attachment wrote %+v", l)
		}
	}
}

// TestRecordAndRecordExport renders the record Export writes, in memory,
// and records an export line only when asked.
func TestRecordAndRecordExport(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	if _, err := f.st.storeItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01", "message", "a <b>bold</b> claim")}); err != nil {
		t.Fatal(err)
	}
	rec, err := f.st.Record(1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(rec, []byte("<title>Safeguarding case record HK-0000-0001</title>")) || !bytes.Contains(rec, []byte("a &lt;b&gt;bold&lt;/b&gt; claim")) {
		t.Errorf("record:\n%s", rec)
	}
	cv, _ := f.st.Show(1)
	n := len(cv.Chronology)
	if err := f.st.RecordExport(1, "case record opened to print"); err != nil {
		t.Fatal(err)
	}
	cv, _ = f.st.Show(1)
	if len(cv.Chronology) != n+1 || cv.Chronology[n].What != "export" || cv.Chronology[n].Text != "case record opened to print" || cv.Chronology[n].Who != "Dana Lead" {
		t.Errorf("chronology: %+v", cv.Chronology)
	}
	if err := f.st.RecordExport(1, " \n"); err == nil {
		t.Error("an empty export line was recorded")
	}
	if err := f.st.RecordExport(7, "x"); !errors.Is(err, ErrNoCase) {
		t.Errorf("no case: %v", err)
	}
	// Export still writes the same document.
	path := t.TempDir() + "/r.html"
	if err := f.st.Export(1, path); err != nil {
		t.Fatal(err)
	}
}

// TestFirstResponses counts the first reply after the report that was not
// refused, from clear metadata.
func TestFirstResponses(t *testing.T) {
	f := newStoreFixture(t)
	answered, open, orphan := f.thread(), f.thread(), f.thread()
	page := []staff.Item{
		f.item(t, answered, vault.KindReport, "2026-03-01", "message", "one"),
		f.item(t, open, vault.KindReport, "2026-03-03", "message", "two"),
		f.item(t, answered, vault.KindReply, "2026-03-04", "message", "we hear you"),
		f.item(t, orphan, vault.KindFollowUp, "2026-03-05", "message", "more"),
		f.item(t, answered, vault.KindReply, "2026-03-06", "message", "again"),
	}
	if _, err := f.st.storeItems(page); err != nil {
		t.Fatal(err)
	}
	// A reply written here and refused by the server is no answer.
	f.now = f.now.AddDate(0, 0, -8) // 2026-03-02
	if _, err := f.st.Reply(2, "hello", f.team); err != nil {
		t.Fatal(err)
	}
	out, _ := f.st.outbox()
	if err := f.st.markSent(out[0].ID, "refused"); err != nil {
		t.Fatal(err)
	}
	got, err := f.st.FirstResponses()
	if err != nil {
		t.Fatal(err)
	}
	want := []FirstResponse{
		{Case: "HK-0000-0001", Route: "students", Reported: "2026-03-01", Replied: "2026-03-04"},
		{Case: "HK-0000-0002", Route: "students", Reported: "2026-03-03"},
		{Case: "HK-0000-0003", Route: "students"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("first responses:\n got %+v\nwant %+v", got, want)
	}
}

// TestSyncWatched reports each stage and the items stored so far.
func TestSyncWatched(t *testing.T) {
	f := newStoreFixture(t)
	_, c := newFakeStaff(t, f.st, f.queue(t, 25))
	c.PageSize = 10
	var mu sync.Mutex
	var seen []SyncProgress
	res, err := SyncWatched(context.Background(), f.st, c, func(p SyncProgress) {
		mu.Lock()
		seen = append(seen, p)
		mu.Unlock()
	})
	if err != nil || res.Received != 25 {
		t.Fatalf("sync: %+v, %v", res, err)
	}
	var stages []string
	for _, p := range seen {
		if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
			stages = append(stages, p.Stage)
		}
	}
	if strings.Join(stages, ",") != "receiving,sending replies,confirming" {
		t.Errorf("stages %v", stages)
	}
	var counts []int
	for _, p := range seen {
		if p.Stage == "receiving" {
			counts = append(counts, p.Received)
		}
	}
	if !reflect.DeepEqual(counts, []int{0, 10, 20, 25}) {
		t.Errorf("received counts %v", counts)
	}
}

// TestSortCasesAsList: a list sorted again after one case changes is the
// list List returns.
func TestSortCasesAsList(t *testing.T) {
	f := newStoreFixture(t)
	var page []staff.Item
	for i, danger := range []string{"no", "no", "yes", "no"} {
		page = append(page, f.item(t, f.thread(), vault.KindReport, "2026-03-0"+string(rune('1'+i)), "message", "m", "danger", danger))
	}
	if _, err := f.st.storeItems(page); err != nil {
		t.Fatal(err)
	}
	before, _ := f.st.List()
	if _, err := f.st.Triage(4, TriageChange{Urgency: "immediate"}); err != nil {
		t.Fatal(err)
	}
	cv, _ := f.st.Show(4)
	for i := range before {
		if before[i].Case == "HK-0000-0004" {
			before[i] = cv.CaseSummary
		}
	}
	SortCases(before)
	after, _ := f.st.List()
	var got, want []string
	for i := range after {
		got, want = append(got, before[i].Case), append(want, after[i].Case)
	}
	if !reflect.DeepEqual(got, want) || want[1] != "HK-0000-0004" {
		t.Errorf("sorted %v, List %v", got, want)
	}
}
