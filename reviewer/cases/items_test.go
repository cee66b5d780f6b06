package cases

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

func TestStoreItemsExactlyOnce(t *testing.T) {
	f := newStoreFixture(t)
	th1, th2 := f.thread(), f.thread()
	page := []staff.Item{
		f.item(t, th1, vault.KindReport, "2026-03-01", "message", "first"),
		f.item(t, th2, vault.KindReport, "2026-03-02", "message", "second"),
		f.item(t, th1, vault.KindFollowUp, "2026-03-03", "message", "more"),
	}
	got, err := f.st.storeItems(page)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.New) != 3 || strings.Join(got.NewCases, ",") != "HK-0000-0001,HK-0000-0002" {
		t.Fatalf("stored %+v", got)
	}
	// The same page again (a response that was stored but whose sync was
	// cut before the cursor was used) adds nothing.
	again, err := f.st.storeItems(page)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.New) != 0 || len(again.NewCases) != 0 {
		t.Fatalf("a repeated page stored %+v", again)
	}
	noPositions(t, f.st)
	refs, _ := f.st.toAck()
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
	if cases[0].Case != "HK-0000-0001" || cases[0].Messages != 2 || cases[0].Preview != "first" {
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
		t.Errorf("HK-0000-0002 is %+v", cv.CaseSummary)
	}
	// A bad label sets that item aside, outside any case; the rest of
	// the page is stored.
	bad := f.item(t, th1, vault.KindFollowUp, "2026-03-04")
	good := f.item(t, th1, vault.KindFollowUp, "2026-03-04")
	bad.ID = "../../etc"
	got, err = f.st.storeItems([]staff.Item{good, bad})
	if err != nil || len(got.New) != 1 || len(got.SetAside) != 1 || got.SetAside[0].Case != "" || !strings.Contains(got.SetAside[0].Reason, "invalid id") {
		t.Fatalf("a page with a bad id: %+v, %v", got, err)
	}
	if cv, _ := f.st.Show(1); len(cv.Messages) != 3 {
		t.Errorf("case 1 has %d messages, want 3", len(cv.Messages))
	}
}

// noPositions fails t if the store keeps a server queue position anywhere:
// an item's "seq", a rejected item's, or a cursor.
func noPositions(t *testing.T, st *Store) {
	t.Helper()
	st.db.View(func(tx *boltTx) error {
		if tx.Bucket(bMeta).Get(kCursorV2) != nil {
			t.Error("the store keeps a cursor")
		}
		for _, b := range [][]byte{bItems, bRejected} {
			tx.Bucket(b).ForEach(func(k, v []byte) error {
				var m map[string]json.RawMessage
				json.Unmarshal(v, &m)
				if _, ok := m["seq"]; ok {
					t.Errorf("%s %s keeps a queue position: %s", b, k, v)
				}
				if it, ok := m["item"]; ok && bytes.Contains(it, []byte(`"seq"`)) {
					t.Errorf("%s %s keeps a queue position", b, k)
				}
				return nil
			})
		}
		return nil
	})
}
