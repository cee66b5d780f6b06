package vault

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// queueFixture stores n reports, closes the store and returns its bytes and
// the item whose queue entry the tests damage.
func queueFixture(t *testing.T, n int) (path string, raw []byte, victim Item) {
	t.Helper()
	_, team := testTeam(t, 1)
	s, path := openTest(t, nil)
	for i := range n {
		if _, err := s.CreateThread("safeguarding", report(strings.Repeat("words ", 10+i)), team.Recipients()); err != nil {
			t.Fatal(err)
		}
	}
	items, _, err := s.Pending("", 1000, nil, "")
	if err != nil || len(items) != n {
		t.Fatalf("%d items, %v", len(items), err)
	}
	victim = items[n/2]
	s.Close()
	raw, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, raw, victim
}

// entryAt finds the victim's queue entry in the file's bytes: where the
// live page holds it, and any free page that still does.
func entryAt(t *testing.T, raw []byte, it Item) ([]int, []byte) {
	t.Helper()
	tid, _ := parseID(it.Thread)
	iid, _ := parseID(it.ID)
	v, _ := json.Marshal(queueEntry{Thread: tid, Item: iid})
	var at []int
	for i := 0; ; {
		j := bytes.Index(raw[i:], v)
		if j < 0 {
			break
		}
		at, i = append(at, i+j), i+j+1
	}
	if len(at) == 0 {
		t.Fatal("the queue entry is not in the file")
	}
	return at, v
}

// One bit flipped in a queue entry: the report behind it was never
// delivered, and nothing said so (a flip in the thread id), or every sync
// failed (a flip that breaks the JSON). Now the damage is found when the
// store opens, the sync delivers everything else and says how many items
// it cannot send, the thread is kept, and RebuildQueue delivers it again.
func TestQueueEntryDamaged(t *testing.T) {
	for _, tc := range []struct {
		name string
		flip func(entry []byte) int // the offset of the byte to flip, and its bit is 0x01
	}{
		{"thread id", func(e []byte) int {
			// A base64 letter whose flip is another one: it decodes to
			// another id.
			start := bytes.IndexByte(e, ':') + 2
			for i := start; i < start+20; i++ {
				if strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", e[i]^1) >= 0 {
					return i
				}
			}
			t.Fatal("no letter to flip")
			return 0
		}},
		{"syntax", func(e []byte) int { return bytes.LastIndex(e, []byte(`"item"`)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 40
			path, raw, victim := queueFixture(t, n)
			at, entry := entryAt(t, raw, victim)
			b := bytes.Clone(raw)
			for _, i := range at {
				b[i+tc.flip(entry)] ^= 0x01
			}
			writeRaw(t, path, b)

			s, err := OpenStore(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if h := s.QueueHealth(); h.Blocked != 1 || h.Unreadable != 0 {
				t.Fatalf("the check at open found %+v", h)
			}
			items, _, err := s.Pending("", 1000, nil, "")
			if err != nil || len(items) != n-1 {
				t.Fatalf("sync with a damaged entry: %d items, %v", len(items), err)
			}
			if got := s.QueueBlocked([]string{"safeguarding"}); got != 1 {
				t.Fatalf("the staff channel would tell a member of %d undeliverable items", got)
			}
			if got := s.QueueBlocked([]string{"head"}); got != 0 {
				t.Fatalf("a member of another route would hear of %d", got)
			}
			// The team stores and acknowledges what it got. The damaged
			// entry's thread stays: retention never takes a thread with an
			// item still waiting, however old.
			for _, it := range items {
				if err := s.Ack(it.ID, "Lead 1", []string{"Lead 1"}); err != nil {
					t.Fatal(err)
				}
			}
			if p, _ := s.PlanRetention(-1); p.Delete != n-1 || p.Keep != 1 {
				t.Fatalf("retention plan with a damaged entry: %+v", p)
			}

			written, removed, err := s.RebuildQueue()
			if err != nil || written != 1 {
				t.Fatalf("rebuild: wrote %d, removed %d, %v", written, removed, err)
			}
			if h := s.QueueHealth(); !h.Sound() || s.QueueBlocked(nil) != 0 {
				t.Fatalf("after the rebuild: %+v", h)
			}
			items, _, err = s.Pending("", 1000, nil, "")
			if err != nil || len(items) != 1 {
				t.Fatalf("after the rebuild: %d items, %v", len(items), err)
			}
			if it := items[0]; it.ID != victim.ID || seqOf(t, s, it) != seqOf(t, s, victim) || it.Thread != victim.Thread || !bytes.Equal(it.Sealed, victim.Sealed) {
				t.Fatal("the damaged entry's item was not delivered whole after the rebuild")
			}
			if err := s.Ack(victim.ID, "Lead 1", []string{"Lead 1"}); err != nil {
				t.Fatal(err)
			}
			if items, _, _ := s.Pending("", 1000, nil, ""); len(items) != 0 {
				t.Fatalf("after acknowledging it: %d", len(items))
			}
		})
	}
}

// A queue entry lost altogether, an entry naming nothing, and a thread that
// miscounts its waiting items: all found at open, all put right.
func TestQueueRebuild(t *testing.T) {
	_, team := testTeam(t, 1)
	s, _ := openTest(t, nil)
	for range 5 {
		s.CreateThread("safeguarding", report("x"), team.Recipients())
	}
	items, _, _ := s.Pending("", 100, nil, "")
	s.db.Update(func(tx *bolt.Tx) error {
		q := tx.Bucket(bucketQueues).Bucket([]byte("safeguarding"))
		q.Delete(seqKey(seqOf(t, s, items[1])))
		q.Put(seqKey(999), []byte(`{"thread":"`+base64.StdEncoding.EncodeToString(make([]byte, 16))+`","item":"","route":"x"}`))
		tid, _ := parseID(items[3].Thread)
		tb := tx.Bucket(bucketThreads).Bucket(tid)
		var rec threadRecord
		getJSON(tb, keyInfo, &rec)
		rec.Queued = 0 // one flipped digit: the thread would expire with its report unread
		return putJSON(tb, keyInfo, rec)
	})
	s.db.View(s.checkQueue)
	if h := s.QueueHealth(); h != (QueueHealth{Blocked: 1, Stray: 1, Counts: 1}) {
		t.Fatalf("found %+v", h)
	}
	if p, _ := s.PlanRetention(-1); p.Keep != 5 {
		t.Fatalf("a miscounted thread would be deleted: %+v", p)
	}
	if w, r, err := s.RebuildQueue(); err != nil || w != 1 || r != 1 {
		t.Fatalf("rebuild: %d %d %v", w, r, err)
	}
	if got, _, _ := s.Pending("", 100, nil, ""); len(got) != 5 {
		t.Fatalf("%d items after the rebuild", len(got))
	}
	r, _ := s.CreateThread("safeguarding", report("after"), team.Recipients())
	if got, _, _ := s.Pending("", 100, nil, ""); len(got) != 6 || seqOf(t, s, got[5]) <= seqOf(t, s, items[4]) {
		t.Fatalf("a new report after the rebuild: %v", r)
	}
}

// Two item records claiming one queue position (a flipped bit in one's
// position): both are delivered after the rebuild.
func TestQueueRebuildSharedPosition(t *testing.T) {
	_, team := testTeam(t, 1)
	s, _ := openTest(t, nil)
	for range 4 {
		s.CreateThread("safeguarding", report("x"), team.Recipients())
	}
	items, _, _ := s.Pending("", 100, nil, "")
	s.db.Update(func(tx *bolt.Tx) error {
		tid, _ := parseID(items[3].Thread)
		iid, _ := parseID(items[3].ID)
		b := tx.Bucket(bucketThreads).Bucket(tid).Bucket(bucketItems)
		var ir itemRecord
		getJSON(b, iid, &ir)
		ir.Seq = seqOfTx(tx, items[1])
		return putJSON(b, iid, ir)
	})
	s.db.View(s.checkQueue)
	if h := s.QueueHealth(); h.Sound() {
		t.Fatal("a shared position was not found")
	}
	if _, _, err := s.RebuildQueue(); err != nil {
		t.Fatal(err)
	}
	got, _, _ := s.Pending("", 100, nil, "")
	ids := map[string]bool{}
	for _, it := range got {
		ids[it.ID] = true
	}
	if len(got) != 4 || len(ids) != 4 {
		t.Fatalf("after the rebuild: %d items, %d distinct", len(got), len(ids))
	}
}

// seqOf returns an item's position in its route's queue, which the store
// never shows outside it.
func seqOf(t *testing.T, s *Store, it Item) uint64 {
	t.Helper()
	var seq uint64
	s.db.View(func(tx *bolt.Tx) error {
		seq = seqOfTx(tx, it)
		return nil
	})
	return seq
}

func seqOfTx(tx *bolt.Tx, it Item) uint64 {
	tid, _ := parseID(it.Thread)
	iid, _ := parseID(it.ID)
	var ir itemRecord
	getJSON(tx.Bucket(bucketThreads).Bucket(tid).Bucket(bucketItems), iid, &ir)
	return ir.Seq
}
