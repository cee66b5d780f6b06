package boltcheck

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// sample makes a bbolt file with what a real store has: nested buckets,
// small buckets stored inline, values that span overflow pages, enough keys
// for branch pages, and free pages from deletions. It returns the file's
// bytes after the last commit, whose key is "last".
func sample(t testing.TB) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sample.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	err = db.Update(func(tx *bolt.Tx) error {
		top, _ := tx.CreateBucket([]byte("threads"))
		for i := range 60 {
			b, err := top.CreateBucket(fmt.Appendf(nil, "thread-%03d", i))
			if err != nil {
				return err
			}
			b.Put([]byte("info"), bytes.Repeat([]byte{'i'}, 40))
			if i%3 == 0 { // big enough to leave the inline form
				v := make([]byte, 3000+rng.IntN(9000))
				for j := range v {
					v[j] = byte(rng.Uint32())
				}
				b.Put([]byte("sealed"), v)
			}
		}
		idx, _ := tx.CreateBucket([]byte("index"))
		for i := range 400 {
			idx.Put(fmt.Appendf(nil, "key-%05d", i), fmt.Appendf(nil, "value-%d", i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		for i := 0; i < 60; i += 4 {
			tx.Bucket([]byte("threads")).DeleteBucket(fmt.Appendf(nil, "thread-%03d", i))
		}
		return nil
	})
	db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("index")).Put([]byte("last"), []byte("commit")) })
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, raw
}

func write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func unchanged(t testing.TB, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("a refused file was changed")
	}
}

func hasLast(t testing.TB, db *bolt.DB) bool {
	t.Helper()
	var ok bool
	db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket([]byte("index")).Get([]byte("last")) != nil
		return nil
	})
	return ok
}

func TestOpenSound(t *testing.T) {
	path, raw := sample(t)
	for _, ro := range []bool{true, false} {
		db, rep, err := Open(path, Options{ReadOnly: ro})
		if err != nil || rep != (Report{}) {
			t.Fatalf("read-only %v: %v %+v", ro, err, rep)
		}
		if !hasLast(t, db) {
			t.Fatal("last commit missing")
		}
		db.Close()
	}
	unchanged(t, path, raw) // opening and closing commits nothing
	fresh := filepath.Join(t.TempDir(), "new.db")
	db, _, err := Open(fresh, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, _, err := Open(filepath.Join(t.TempDir(), "missing.db"), Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only open made a file")
	}
}

func TestOpenLocked(t *testing.T) {
	path, _ := sample(t)
	db, _, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, _, err := Open(path, Options{Timeout: 50e6, ReadOnly: true}); !errors.Is(err, ErrLocked) {
		t.Fatalf("got %v", err)
	}
}

func TestTruncated(t *testing.T) {
	path, raw := sample(t)
	// bbolt grows a file ahead of need: only a cut into the pages in use
	// loses anything.
	m := decodeMeta(raw)
	if n := decodeMeta(raw[4096:]); n.txid > m.txid {
		m = n
	}
	need := int(m.pgid) * int(m.pageSize)
	if need >= len(raw) {
		t.Fatalf("%d bytes in use of %d: no room to cut", need, len(raw))
	}
	for _, cut := range []int{need - 1, need - 4096, need / 2, 3 * 4096, 4096 + 100} {
		b := raw[:cut]
		write(t, path, b)
		_, _, err := Open(path, Options{})
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		unchanged(t, path, b)
	}
}

// metaSlots returns the offsets of the newer and older meta records.
func metaSlots(raw []byte) (newer, older int) {
	m0, m1 := decodeMeta(raw), decodeMeta(raw[4096:])
	if m1.txid > m0.txid {
		return 4096, 0
	}
	return 0, 4096
}

func TestNewerMetaDamaged(t *testing.T) {
	path, raw := sample(t)
	newer, _ := metaSlots(raw)
	for _, off := range []int{pageHeaderSize + 3, pageHeaderSize + 41, pageHeaderSize + 48, pageHeaderSize + 49, pageHeaderSize + 60} {
		b := bytes.Clone(raw)
		b[newer+off] ^= 0x02 // off+48 is the txid: one bit can make it read as the older one
		write(t, path, b)
		_, _, err := Open(path, Options{})
		if !errors.Is(err, ErrRollback) {
			t.Fatalf("byte %d: %v", off, err)
		}
		unchanged(t, path, b)
	}
	db, rep, err := Open(path, Options{AcceptRollback: true})
	if err != nil || !rep.RolledBack {
		t.Fatalf("accepting the rollback: %v %+v", err, rep)
	}
	if hasLast(t, db) {
		t.Fatal("the damaged commit was not rolled back")
	}
	db.Close()
	// Accepted once, the damaged record has been rewritten.
	db, rep, err = Open(path, Options{})
	if err != nil || rep != (Report{}) {
		t.Fatalf("after accepting: %v %+v", err, rep)
	}
	db.Close()
}

func TestOlderMetaDamaged(t *testing.T) {
	path, raw := sample(t)
	_, older := metaSlots(raw)
	b := bytes.Clone(raw)
	b[older+pageHeaderSize+40] ^= 0x10 // its high-water mark
	write(t, path, b)
	db, rep, err := Open(path, Options{ReadOnly: true})
	if err != nil || !rep.OlderMetaDamaged || rep.RolledBack {
		t.Fatalf("%v %+v", err, rep)
	}
	db.Close()
	unchanged(t, path, b)
	db, rep, err = Open(path, Options{})
	if err != nil || !rep.OlderMetaDamaged || !hasLast(t, db) {
		t.Fatalf("%v %+v", err, rep)
	}
	db.Close()
	db, rep, err = Open(path, Options{})
	if err != nil || rep != (Report{}) {
		t.Fatalf("not rewritten: %v %+v", err, rep)
	}
	db.Close()
}

func TestNotBolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	b := []byte(strings.Repeat("not a database ", 2000))
	write(t, path, b)
	if _, _, err := Open(path, Options{}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("got %v", err)
	}
	unchanged(t, path, b)
}

// TestFlips flips bits all over the pages in use: page headers, element
// tables, keys and values. Open either refuses the file, leaving it as it
// was, or opens it, and then everything bbolt does with it works or fails
// with an error: never a crash, a hang or a runaway allocation.
func TestFlips(t *testing.T) {
	path, raw := sample(t)
	m := decodeMeta(raw)
	if n := decodeMeta(raw[4096:]); n.txid > m.txid {
		m = n
	}
	ps := int(m.pageSize)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	refused, opened := 0, 0
	for pg := 2; pg < int(m.pgid); pg++ {
		for i := range 32 {
			bit := rng.IntN(pageHeaderSize * 8) // the header: id, type, count, overflow
			if i%2 == 1 {
				bit = pageHeaderSize*8 + rng.IntN((ps-pageHeaderSize)*8)
			}
			off := int64(pg*ps + bit/8)
			flipped := raw[off] ^ 1<<(bit%8)
			f.WriteAt([]byte{flipped}, off)
			db, _, err := Open(path, Options{})
			if err != nil {
				if !errors.Is(err, ErrDamaged) {
					t.Fatalf("page %d bit %d: %v", pg, bit, err)
				}
				if refused%8 == 0 {
					b := bytes.Clone(raw)
					b[off] = flipped
					unchanged(t, path, b)
				}
				refused++
				f.WriteAt(raw[off:off+1], off)
				continue
			}
			readAll(db)
			if opened%8 == 0 {
				update(db)
				db.Close()
				write(t, path, raw)
			} else {
				db.Close()
				f.WriteAt(raw[off:off+1], off)
			}
			opened++
		}
	}
	t.Logf("%d pages: %d flips refused, %d opened (flips in values, key bytes that keep order, or unused space)", m.pgid-2, refused, opened)
	if refused == 0 || opened == 0 {
		t.Fatal("the flips did not reach both outcomes: the test proved little")
	}
}

// readAll reads every key and value, as a compaction or a backup does.
func readAll(db *bolt.DB) {
	var walk func(b *bolt.Bucket)
	walk = func(b *bolt.Bucket) {
		b.ForEach(func(k, v []byte) error {
			if v == nil {
				if c := b.Bucket(k); c != nil {
					walk(c)
				}
			}
			_ = bytes.Clone(v)
			return nil
		})
	}
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error { walk(b); return nil })
	})
}

func update(db *bolt.DB) {
	db.NoSync = true // the file is thrown away
	db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("index"))
		if b == nil {
			return nil
		}
		b.Put([]byte("key-00007"), []byte("rewritten"))
		return b.Delete([]byte("key-00100"))
	})
}
