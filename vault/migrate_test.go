package vault

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// v1Manifest is what testdata/genv1 (built against the schema-1 vault of
// main, before queues per route) wrote beside the store it made.
type v1Manifest struct {
	Day      string   `json:"day"`
	Receipts []string `json:"receipts"`
	Items    []struct {
		ID     string   `json:"id"`
		Thread string   `json:"thread"`
		Route  string   `json:"route"`
		Kind   Kind     `json:"kind"`
		Sealed string   `json:"sealed_sha256"`
		Acked  []string `json:"acked_by"`
	} `json:"items"`
	Waiting []string            `json:"waiting"`
	Teams   map[string][]string `json:"teams"`
}

// openV1 copies testdata's schema-1 store to a temporary file and returns
// its path and manifest.
func openV1(t *testing.T) (string, v1Manifest) {
	t.Helper()
	var m v1Manifest
	data, err := os.ReadFile(filepath.Join("testdata", "v1-store.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join("testdata", "v1-store.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hearken.db")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, m
}

// TestMigrateV1 opens a store written by the vault of before queues per
// route (schema 1, one queue and one counter for every route), as a server
// upgraded in place does. It opens through the same checks as any store,
// is brought to schema 2 in one commit, and then serves exactly what it
// held: every receipt finds its thread, every waiting item waits in its
// route's queue in the order it arrived, acknowledgements still count, and
// the old queue and its counter are gone.
func TestMigrateV1(t *testing.T) {
	path, m := openV1(t)
	day, _ := time.Parse(dayLayout, m.Day)
	c := &clock{day.Add(10 * time.Hour)}

	// Read-only, as intake backup opens it: copied and verified as it is.
	ro, err := OpenStore(path, &Options{ReadOnly: true, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if _, err := ro.BackupFile(backup); err != nil {
		t.Fatalf("backup of a schema-1 store: %v", err)
	}
	if _, _, err := ro.Pending("", 10, nil, ""); err == nil {
		t.Fatal("a read-only schema-1 store served its queue")
	}
	ro.Close()

	s, err := OpenStore(path, &Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Notices()) != 1 || !bytes.Contains([]byte(s.Notices()[0]), []byte("schema 1 to 2")) {
		t.Fatalf("notices: %q", s.Notices())
	}
	if h := s.QueueHealth(); !h.Sound() {
		t.Fatalf("after migration the queue check found %+v", h)
	}
	s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketQueueV1) != nil {
			t.Error("the old queue, with its counter of every item, is still there")
		}
		if v := string(tx.Bucket(bucketMeta).Get(keySchema)); v != strconv.Itoa(SchemaVersion) {
			t.Errorf("schema %q", v)
		}
		return nil
	})
	for _, r := range m.Receipts {
		rc, err := ParseReceipt(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Thread(rc); err != nil {
			t.Errorf("a receipt no longer finds its thread: %v", err)
		}
	}
	// The reporter of the first thread still reads the team's reply.
	rc, _ := ParseReceipt(m.Receipts[0])
	if replies, _, err := s.Replies(rc); err != nil || len(replies) != 1 || replies[0].Field("message") != "we hear you" {
		t.Fatalf("replies after migration: %d, %v", len(replies), err)
	}

	sums := map[string]string{}
	for _, it := range m.Items {
		sums[it.ID] = it.Sealed
	}
	all, _, err := s.Pending("", 100, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range all {
		got = append(got, it.ID)
		sum := sha256.Sum256(it.Sealed)
		if hex.EncodeToString(sum[:]) != sums[it.ID] {
			t.Errorf("item %s changed in migration", it.ID)
		}
	}
	// Route by route ("head" sorts first), each in the order of the old
	// queue; the positions count from one in each.
	var want []string
	for _, route := range []string{"head", "students"} {
		n := uint64(0)
		for _, id := range m.Waiting {
			for _, it := range m.Items {
				if it.ID == id && it.Route == route {
					want = append(want, id)
					n++
					if p := seqOf(t, s, Item{ID: id, Thread: it.Thread}); p != n {
						t.Errorf("%s item %s at position %d, want %d", route, id, p, n)
					}
				}
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("waiting after migration:\n%v\nwant\n%v", got, want)
	}
	// Acknowledgements made before still count: B's are what is missing.
	team := func(r string) []string { return m.Teams[r] }
	bItems, _, _ := s.Pending("", 100, []string{"students"}, "ed25519:B")
	aItems, _, _ := s.Pending("", 100, []string{"students"}, "ed25519:A")
	if len(bItems) != 3 || len(aItems) != 1 {
		t.Fatalf("students items: %d for B, %d for A", len(bItems), len(aItems))
	}
	for _, it := range bItems {
		if err := s.Ack(it.ID, "ed25519:B", team("students")); err != nil {
			t.Fatal(err)
		}
	}
	if rest, _, _ := s.Pending("", 100, []string{"students"}, ""); len(rest) != 1 || rest[0].ID != aItems[0].ID {
		t.Fatalf("after B's acknowledgements, %d items wait", len(rest))
	}
	// And it takes new reports, at the end of their route's queue.
	_, tm := testTeam(t, 1)
	if _, err := s.CreateThread("head", report("new"), tm.Recipients()); err != nil {
		t.Fatal(err)
	}
	if h, _, _ := s.Pending("", 100, []string{"head"}, ""); len(h) != 2 || seqOf(t, s, h[1]) != 2 {
		t.Fatalf("a new report on a migrated route: %d items", len(h))
	}
	// A migrated store's copy verifies, and opens again without migrating.
	s.Close()
	s2, err := OpenStore(path, &Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	if len(s2.Notices()) != 0 {
		t.Fatalf("opened again: %q", s2.Notices())
	}
	s2.Close()
	if err := VerifyBackup(backup); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateV1Damaged shows a schema-1 store with an unreadable item
// record migrates all it can read, and the queue check that follows counts
// what it could not, as it would in a store of the new layout.
func TestMigrateV1Damaged(t *testing.T) {
	path, _ := openV1(t)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var victim []byte
	db.Update(func(tx *bolt.Tx) error {
		threads := tx.Bucket(bucketThreads)
		return threads.ForEachBucket(func(tid []byte) error {
			items := threads.Bucket(tid).Bucket(bucketItems)
			return items.ForEach(func(k, v []byte) error {
				var ir itemRecord
				json.Unmarshal(v, &ir)
				if victim == nil && ir.Seq != 0 {
					victim = bytes.Clone(k)
					return items.Put(victim, []byte("{not json"))
				}
				return nil
			})
		})
	})
	db.Close()
	s, err := OpenStore(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if h := s.QueueHealth(); h.Unreadable != 1 {
		t.Fatalf("after migrating around an unreadable record: %+v", h)
	}
}
