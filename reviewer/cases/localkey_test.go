package cases

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

func TestStoreEncryptedAtRest(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	if _, err := f.st.storeItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01",
		"message", "zebra-report-words", "danger", "yak-danger-words")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Note(1, "giraffe-note-words", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Triage(1, TriageChange{Category: "neglect", Assign: "okapi-assignee"}); err != nil {
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
	raw, err := os.ReadFile(storePath(f.dir))
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
	for _, want := range []string{"report received", "note:giraffe-note-words", "triage:status: new → triaged; category: (none) → neglect; assigned to: (none) → okapi-assignee", "reply:queued"} {
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

func TestLocalKeyRedacted(t *testing.T) {
	f := newStoreFixture(t)
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		if got := fmt.Sprintf(format, f.st.key); got != "[REDACTED]" {
			t.Errorf("%s prints the data key as %q", format, got)
		}
	}
}

// TestLocalRecordsBound shows a sealed local record only opens under the
// bucket and key it was sealed for: one case's summary or triage moved onto
// another case is refused, not shown.
func TestLocalRecordsBound(t *testing.T) {
	f := newStoreFixture(t)
	th1, th2 := f.thread(), f.thread()
	page := []staff.Item{
		f.item(t, th1, vault.KindReport, "2026-03-01", "message", "one"),
		f.item(t, th2, vault.KindReport, "2026-03-02", "message", "two"),
	}
	if _, err := f.st.storeItems(page); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Triage(1, TriageChange{Urgency: "immediate"}); err != nil {
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
	one, two := byCase["HK-0000-0001"], byCase["HK-0000-0002"]
	if one.Preview != "one" || one.Urgency != "immediate" || one.Problems != 1 ||
		two.Preview != "two" || two.Urgency != "" || two.Problems != 1 {
		t.Errorf("list with damaged summaries: %+v", cs)
	}
	// The next change to a case writes a good summary again.
	if _, err := f.st.Triage(2, TriageChange{Urgency: "low"}); err != nil {
		t.Fatal(err)
	}
	cs, _ = f.st.List()
	for _, c := range cs {
		if c.Case == "HK-0000-0002" && (c.Problems != 0 || c.Preview != "two" || c.Urgency != "low") {
			t.Errorf("HK-0000-0002 after a change: %+v", c)
		}
	}
}

// TestLocalKeyUnprintable shows the store's data key prints under no verb,
// on the key, a copy of it or the store, nested anywhere.
func TestLocalKeyUnprintable(t *testing.T) {
	f := newStoreFixture(t)
	key := rawDataKey(t, f)
	testkit.Unprintable(t, f.st.key, [][]byte{key})
	testkit.Unprintable(t, *f.st.key, [][]byte{key})
	testkit.Unprintable(t, f.st, [][]byte{key})
}
