package vault

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// A store as the damage tests need it: threads the team has fetched and
// some it has not, a reply, and last of all one more report, whose receipt
// is returned separately: it is the store's newest commit.
func damageFixture(t *testing.T) (path string, raw []byte, older []Receipt, last Receipt) {
	t.Helper()
	_, team := testTeam(t, 1)
	s, path := openTest(t, nil)
	for i := range 30 {
		r, err := s.CreateThread("safeguarding", report(strings.Repeat("words ", 50+i*40)), team.Recipients())
		if err != nil {
			t.Fatal(err)
		}
		older = append(older, r)
	}
	items, _, _ := s.Pending("", 100, nil, "")
	for _, it := range items[:20] {
		s.Ack(it.ID, "Lead 1", []string{"Lead 1"})
	}
	last, err := s.CreateThread("safeguarding", report("the last report"), team.Recipients())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, raw, older, last
}

// bbolt's meta records: page 0 and page 1, the record 16 bytes into each;
// page size at +8, high-water mark at +40, txid at +48.
func metaField(raw []byte, page, off int) uint64 {
	ps := int(binary.NativeEndian.Uint32(raw[16+8:]))
	return binary.NativeEndian.Uint64(raw[page*ps+16+off:])
}

func newerMetaPage(raw []byte) int {
	if metaField(raw, 1, 48) > metaField(raw, 0, 48) {
		return 1
	}
	return 0
}

func pagesInUse(raw []byte) (pages, pageSize int) {
	return int(metaField(raw, newerMetaPage(raw), 40)), int(binary.NativeEndian.Uint32(raw[16+8:]))
}

func writeRaw(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func sameFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the refused store file was changed")
	}
}

// A store cut short (a full disk during a copy, a bad restore) is refused
// with a message, not a SIGBUS, and left as it is.
func TestTruncatedStore(t *testing.T) {
	path, raw, _, _ := damageFixture(t)
	pages, ps := pagesInUse(raw)
	for _, cut := range []int{pages*ps - ps, pages * ps / 2, 3 * ps} {
		b := raw[:cut]
		writeRaw(t, path, b)
		for _, ro := range []bool{false, true} {
			_, err := OpenStore(path, &Options{ReadOnly: ro})
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "cut short") {
				t.Fatalf("cut to %d bytes: %v", cut, err)
			}
		}
		sameFile(t, path, b)
	}
}

// When the newer of bbolt's two commit records is damaged, bbolt silently
// opens the commit before it, and the last receipt shown finds nothing.
// The store refuses instead, unless the operator accepts the rollback.
func TestNewerMetaDamaged(t *testing.T) {
	path, raw, older, last := damageFixture(t)
	_, ps := pagesInUse(raw)
	b := bytes.Clone(raw)
	b[newerMetaPage(raw)*ps+16+40] ^= 0x01 // its high-water mark
	writeRaw(t, path, b)
	_, err := OpenStore(path, nil)
	if !errors.Is(err, ErrCorrupt) || !errors.Is(err, ErrRollback) {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{"newest commit", "not been changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the message does not say %q: %v", want, err)
		}
	}
	sameFile(t, path, b)

	s, err := OpenStore(path, &Options{AcceptRollback: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Join(s.Notices(), "\n"); !strings.Contains(n, "rolled back") {
		t.Fatalf("no notice of the rollback: %q", n)
	}
	if _, err := s.Thread(last); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the last commit survived: %v", err)
	}
	for _, r := range older {
		if _, err := s.Thread(r); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	// Accepted once, the record is rewritten: the store opens plainly.
	s, err = OpenStore(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Notices(); len(n) != 0 {
		t.Fatalf("notices after the rollback was accepted: %q", n)
	}
	s.Close()
}

// The older record damaged loses nothing: the store opens, says so, and
// rewrites it.
func TestOlderMetaDamaged(t *testing.T) {
	path, raw, older, last := damageFixture(t)
	_, ps := pagesInUse(raw)
	b := bytes.Clone(raw)
	b[(1-newerMetaPage(raw))*ps+16+40] ^= 0x01
	writeRaw(t, path, b)
	s, err := OpenStore(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Join(s.Notices(), "\n"); !strings.Contains(n, "nothing was lost") {
		t.Fatalf("no notice of the damage: %q", n)
	}
	for _, r := range append(older, last) {
		if _, err := s.Thread(r); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
}

// Bits flipped in the pages bbolt's check did not cover let the server
// start, write retention into the damaged file and die in compaction. Every
// flip here is either refused at open, with the file left byte for byte as
// it was, or survives the day's chores: retention, purge, compaction,
// and a sync.
func TestDataPageDamage(t *testing.T) {
	t.Parallel() // its waits are on the disk or a child process
	path, raw, _, _ := damageFixture(t)
	pages, ps := pagesInUse(raw)
	// In each page: the header (page id, type, count, overflow) and the
	// first element's offset and sizes.
	flips := [][2]int{{0, 0x04}, {8, 0x01}, {10, 0x80}, {13, 0x01}, {16 + 4, 0x40}, {16 + 6, 0x01}, {16 + 9, 0x10}, {16 + 14, 0x02}}
	refused, opened := 0, 0
	for pg := 2; pg < pages; pg++ {
		if binary.NativeEndian.Uint64(raw[pg*ps:]) != uint64(pg) {
			continue // the rest of a value that spans pages: ciphertext
		}
		for _, f := range flips {
			b := bytes.Clone(raw)
			b[pg*ps+f[0]] ^= byte(f[1])
			writeRaw(t, path, b)
			c := &clock{time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)}
			s, err := OpenStore(path, &Options{Now: c.now})
			if err != nil {
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrSchema) {
					t.Fatalf("page %d byte %d: %v", pg, f[0], err)
				}
				sameFile(t, path, b)
				refused++
				continue
			}
			if opened%8 == 0 { // writes, and their fsyncs, are slow
				s.DeleteInactive(90)
				s.PurgeAcked()
			}
			opened++
			s.Compact() // a backup copies the same way
			s.Pending("", 1000, nil, "")
			s.Close()
		}
	}
	t.Logf("%d pages: %d flips refused, %d opened", pages-2, refused, opened)
	if refused == 0 {
		t.Fatal("no flip was refused: the test proved little")
	}
}
