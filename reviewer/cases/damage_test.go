package cases

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// damageStore fills a case store, closes it and returns its bytes.
func damageStore(t *testing.T) (*storeFixture, []byte) {
	t.Helper()
	f := newStoreFixture(t)
	var page []staff.Item
	for i := range 12 {
		th := f.thread()
		page = append(page, f.item(t, th, vault.KindReport, "2026-03-01", "message", strings.Repeat("words ", 20+i*60)))
		page = append(page, f.item(t, th, vault.KindFollowUp, "2026-03-02", "message", "more"))
	}
	if _, err := f.st.storeItems(page); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Note(1, "a note written last", 0); err != nil {
		t.Fatal(err)
	}
	f.st.Close()
	raw, err := os.ReadFile(storePath(f.dir))
	if err != nil {
		t.Fatal(err)
	}
	return f, raw
}

// bbolt's meta records are 16 bytes into pages 0 and 1: page size at +8,
// high-water mark at +40, txid at +48.
func boltMeta(raw []byte, page, off int) uint64 {
	ps := int(binary.NativeEndian.Uint32(raw[16+8:]))
	return binary.NativeEndian.Uint64(raw[page*ps+16+off:])
}

func (f *storeFixture) refused(t *testing.T, b []byte, want string) {
	t.Helper()
	path := storePath(f.dir)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := Open(f.dir, f.m, true)
	if err == nil {
		st.Close()
	}
	if !errors.Is(err, ErrStoreCorrupt) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want ErrStoreCorrupt saying %q", err, want)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, b) {
		t.Fatal("the refused case store was changed")
	}
}

// The case store is refused with a message, never a crash, when it is cut
// short, when the record of its newest change is damaged (bbolt would
// silently undo that change), and when its pages are damaged.
func TestStoreDamage(t *testing.T) {
	f, raw := damageStore(t)
	ps := int(binary.NativeEndian.Uint32(raw[16+8:]))
	newer := 0
	if boltMeta(raw, 1, 48) > boltMeta(raw, 0, 48) {
		newer = 1
	}
	pages := int(boltMeta(raw, newer, 40))

	t.Run("truncated", func(t *testing.T) {
		for _, cut := range []int{pages*ps - ps, pages * ps / 2} {
			f.refused(t, raw[:cut], "cut short")
		}
	})
	t.Run("newest commit record", func(t *testing.T) {
		b := bytes.Clone(raw)
		b[newer*ps+16+40] ^= 0x01
		f.refused(t, b, "newest change")
	})
	t.Run("pages", func(t *testing.T) {
		refused := 0
		for pg := 2; pg < pages; pg++ {
			if binary.NativeEndian.Uint64(raw[pg*ps:]) != uint64(pg) {
				continue // the rest of a value that spans pages
			}
			for _, fl := range [][2]int{{0, 0x04}, {10, 0x80}, {13, 0x01}, {16 + 6, 0x01}, {16 + 9, 0x10}} {
				b := bytes.Clone(raw)
				b[pg*ps+fl[0]] ^= byte(fl[1])
				path := storePath(f.dir)
				os.WriteFile(path, b, 0o600)
				st, err := Open(f.dir, f.m, true)
				if err != nil {
					if !errors.Is(err, ErrStoreCorrupt) {
						t.Fatalf("page %d byte %d: %v", pg, fl[0], err)
					}
					if got, _ := os.ReadFile(path); !bytes.Equal(got, b) {
						t.Fatal("the refused case store was changed")
					}
					refused++
					continue
				}
				st.List()
				st.Show(1)
				st.Close()
			}
		}
		if refused == 0 {
			t.Fatal("no flip was refused: the test proved little")
		}
	})
}
