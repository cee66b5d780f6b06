package vault

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// damagedLayout makes a sound store with one thread, then changes it with
// change, as a bad restore, a stray tool or a failing disk might.
func damagedLayout(t *testing.T, change func(tx *bolt.Tx) error) string {
	t.Helper()
	_, team := testTeam(t, 1)
	path := filepath.Join(t.TempDir(), "hearken.db")
	s, err := OpenStore(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateThread("safeguarding", report("keep me"), team.Recipients()); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(change); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// A store whose pages are whole but whose layout is not Hearken's is
// refused with ErrSchema and words that say what to do; the file is left
// exactly as it was, writable open or not.
func TestOpenRefusesDamagedLayout(t *testing.T) {
	meta := func(f func(b *bolt.Bucket) error) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error { return f(tx.Bucket(bucketMeta)) }
	}
	tests := []struct {
		name   string
		change func(tx *bolt.Tx) error
		want   string
	}{
		{"schema not a number", meta(func(b *bolt.Bucket) error { return b.Put(keySchema, []byte("two")) }), "no readable schema version"},
		{"schema zero", meta(func(b *bolt.Bucket) error { return b.Put(keySchema, []byte("0")) }), "no readable schema version"},
		{"schema missing", meta(func(b *bolt.Bucket) error { return b.Delete(keySchema) }), "no readable schema version"},
		{"threads missing", func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketThreads) }, "missing part of its layout"},
		{"queues missing", func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketQueues) }, "missing part of its layout"},
		{"lookup key short", meta(func(b *bolt.Bucket) error { return b.Put(keyLookupKey, []byte("short")) }), "no lookup key"},
		{"lookup key missing", meta(func(b *bolt.Bucket) error { return b.Delete(keyLookupKey) }), "no lookup key"},
		{"cursor key missing", meta(func(b *bolt.Bucket) error { return b.Delete(keyCursorKey) }), "no cursor key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := damagedLayout(t, tt.change)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, ro := range []bool{false, true} {
				s, err := OpenStore(path, &Options{ReadOnly: ro})
				if err == nil {
					s.Close()
					t.Fatalf("read-only %v: opened", ro)
				}
				if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "restore a verified backup") {
					t.Fatalf("read-only %v: got %v, want ErrSchema saying %q", ro, err, tt.want)
				}
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Fatal("a refused store was changed")
			}
		})
	}
}

// A read-only open (backups, checks) of a store that is not there says so
// and creates nothing.
func TestOpenReadOnlyMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hearken.db")
	_, err := OpenStore(path, &Options{ReadOnly: true})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a read-only open created the store")
	}
	if err := VerifyBackup(path); err == nil || !strings.Contains(err.Error(), "backup did not verify") {
		t.Fatalf("verify a missing backup: %v", err)
	}
}

// A thread record that no longer decodes (its page is whole, its bytes are
// not) answers ErrCorrupt to whoever asks for that thread, not a panic and
// not "not found"; the store still opens, names the damage in its queue
// health, and other threads are served.
func TestUnreadableThreadRecord(t *testing.T) {
	ms, team := testTeam(t, 1)
	path := filepath.Join(t.TempDir(), "hearken.db")
	s, err := OpenStore(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	damaged, _ := s.CreateThread("safeguarding", report("damaged"), team.Recipients())
	sound, _ := s.CreateThread("safeguarding", report("sound"), team.Recipients())
	ti, _ := s.Thread(damaged)
	tid, _ := parseID(ti.ID)
	s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketThreads).Bucket(tid).Put(keyInfo, []byte(`{"route":`))
	})
	s.Close()

	s, err = OpenStore(path, nil)
	if err != nil {
		t.Fatalf("a store with one unreadable record did not open: %v", err)
	}
	defer s.Close()
	if h := s.QueueHealth(); h.Unreadable != 1 {
		t.Fatalf("queue health %+v, want one unreadable record", h)
	}
	for what, err := range map[string]error{
		"Thread":   func() error { _, err := s.Thread(damaged); return err }(),
		"Replies":  func() error { _, _, err := s.Replies(damaged); return err }(),
		"FollowUp": s.FollowUp(damaged, report("more"), team.Recipients()),
	} {
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s on the damaged thread: %v, want ErrCorrupt", what, err)
		}
	}
	if _, err := s.ThreadRoute(ti.ID); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ThreadRoute: %v", err)
	}
	if _, err := s.Thread(sound); err != nil {
		t.Fatalf("the sound thread: %v", err)
	}
	items, _, err := s.Pending("", 10, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	var opened []string
	for _, it := range items {
		e, err := Open(it.Sealed, ms[0].Identity())
		if err != nil {
			t.Fatal(err)
		}
		opened = append(opened, e.Field("message"))
	}
	if !slices.Equal(opened, []string{"sound"}) {
		t.Fatalf("pending opened %q, want only the sound thread's report", opened)
	}
}

// An item record that no longer decodes is ErrCorrupt to the reporter
// reading replies, not a reply silently missing.
func TestUnreadableItemRecord(t *testing.T) {
	_, team := testTeam(t, 1)
	s, _ := openTest(t, nil)
	r, _ := s.CreateThread("safeguarding", report("x"), team.Recipients())
	ti, _ := s.Thread(r)
	tid, _ := parseID(ti.ID)
	s.db.Update(func(tx *bolt.Tx) error {
		items := tx.Bucket(bucketThreads).Bucket(tid).Bucket(bucketItems)
		k, _ := items.Cursor().First()
		return items.Put(k, []byte("{"))
	})
	if _, _, err := s.Replies(r); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
	if _, err := s.PurgeAcked(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("purge: got %v, want ErrCorrupt", err)
	}
}
