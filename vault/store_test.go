package vault

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func openTest(t testing.TB, c *clock) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hearken.db")
	opts := &Options{}
	if c != nil {
		opts.Now = c.now
	}
	s, err := OpenStore(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func report(msg string) *Envelope {
	return &Envelope{Fields: []Field{{"message", msg}}}
}

func TestThreadLifecycle(t *testing.T) {
	ms, team := testTeam(t, 2)
	s, _ := openTest(t, nil)

	r, err := s.CreateThread("safeguarding", report("first report"), team.Recipients())
	if err != nil {
		t.Fatal(err)
	}
	ti, err := s.Thread(r)
	if err != nil {
		t.Fatal(err)
	}
	if ti.Route != "safeguarding" || ti.Read || ti.RepliesWaiting || ti.Created != Today(time.Now()) {
		t.Fatalf("unexpected thread info %+v", ti)
	}
	other, _ := NewReceipt()
	if _, err := s.Thread(other); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown receipt: %v", err)
	}
	if err := s.FollowUp(other, report("x"), team.Recipients()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("follow-up on unknown receipt: %v", err)
	}
	if err := s.FollowUp(r, report("and another thing"), team.Recipients()); err != nil {
		t.Fatal(err)
	}

	items, _, err := s.Pending("", 100, nil, "")
	if err != nil || len(items) != 2 {
		t.Fatalf("pending: %d items, %v", len(items), err)
	}
	rep, err := Open(items[0].Sealed, ms[1].Identity())
	if err != nil || rep.Kind != KindReport || rep.Field("message") != "first report" || rep.ReplyTo == "" {
		t.Fatalf("report did not open: %v %+v", err, rep)
	}
	fu, err := Open(items[1].Sealed, ms[0].Identity())
	if err != nil || fu.Kind != KindFollowUp || fu.Field("message") != "and another thing" {
		t.Fatalf("follow-up did not open: %v", err)
	}
	if items[0].Thread != ti.ID || items[1].Thread != ti.ID || seqOf(t, s, items[0]) >= seqOf(t, s, items[1]) {
		t.Fatal("items out of order or on the wrong thread")
	}
	first, next, err := s.Pending("", 1, nil, "")
	if err != nil || len(first) != 1 || first[0].ID != items[0].ID || next == "" {
		t.Fatalf("a page of one: %d items, cursor %q, %v", len(first), next, err)
	}
	if more, _, _ := s.Pending(next, 100, nil, ""); len(more) != 1 || more[0].ID != items[1].ID {
		t.Fatal("cursor not honoured")
	}
	if none, _, _ := s.Pending("", 100, []string{"head"}, ""); len(none) != 0 {
		t.Fatal("route filter not honoured")
	}

	// The team replies, sealed to the thread's reply recipient and the team.
	replyTo, err := parseHybridRecipient(rep.ReplyTo)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := Seal(&Envelope{Kind: KindReply, Day: "2026-11-27", Author: "Lead 1", Fields: []Field{{"message", "thank you for telling us"}}},
		append(team.Recipients(), replyTo)...)
	if err != nil {
		t.Fatal(err)
	}
	replyID := uuid.NewString()
	if _, err := s.AddReply(uuid.NewString(), replyID, sealed); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reply to unknown thread: %v", err)
	}
	for range 2 { // a retried push is not a duplicate
		if _, err := s.AddReply(ti.ID, replyID, sealed); err != nil {
			t.Fatal(err)
		}
	}
	if ti, _ := s.Thread(r); !ti.RepliesWaiting {
		t.Fatal("replies not flagged as waiting")
	}
	replies, ti2, err := s.Replies(r)
	if err != nil || len(replies) != 1 || replies[0].Field("message") != "thank you for telling us" || replies[0].Author != "Lead 1" {
		t.Fatalf("replies: %v %d", err, len(replies))
	}
	if !ti2.RepliesWaiting {
		t.Fatal("info should show what was waiting before this view")
	}
	if ti, _ := s.Thread(r); ti.RepliesWaiting {
		t.Fatal("replies still waiting after being viewed")
	}

	// Acknowledgements: the item leaves the queue once every member has it.
	leads := []string{"Lead 1", "Lead 2"}
	if err := s.Ack(items[0].ID, "Lead 1", leads); err != nil {
		t.Fatal(err)
	}
	if ti, _ := s.Thread(r); !ti.Read {
		t.Fatal("acknowledged report not marked read")
	}
	if p, _, _ := s.Pending("", 100, nil, ""); len(p) != 3 {
		t.Fatalf("item left the queue before quorum: %d", len(p))
	}
	if p, _, _ := s.Pending("", 100, nil, "Lead 1"); len(p) != 2 {
		t.Fatalf("Lead 1 is still served the item they acknowledged: %d items", len(p))
	}
	if p, _, _ := s.Pending("", 100, nil, "Lead 2"); len(p) != 3 {
		t.Fatalf("Lead 2 is not served the item only Lead 1 acknowledged: %d items", len(p))
	}
	s.Ack(items[0].ID, "Lead 1", leads) // repeated: no-op
	if p, _, _ := s.Pending("", 100, nil, ""); len(p) != 3 {
		t.Fatal("repeated ack counted twice")
	}
	if err := s.Ack(items[0].ID, "Lead 2", leads); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := s.Pending("", 100, nil, ""); len(p) != 2 {
		t.Fatalf("acked item still queued: %d", len(p))
	}
	if err := s.Ack(uuid.NewString(), "Lead 1", leads); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ack unknown item: %v", err)
	}
	n, err := s.PurgeAcked()
	if err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if replies, _, _ := s.Replies(r); len(replies) != 1 {
		t.Fatal("purge removed a reply")
	}
}

func TestRepliesNeedTheReceipt(t *testing.T) {
	_, team := testTeam(t, 1)
	s, _ := openTest(t, nil)
	r, _ := s.CreateThread("safeguarding", report("x"), team.Recipients())
	ti, _ := s.Thread(r)
	var id []byte
	var rec threadRecord
	s.db.View(func(tx *bolt.Tx) error {
		id, _ = parseID(ti.ID)
		_, rp, _ := s.threadByID(tx, id)
		rec = *rp
		return nil
	})
	other, _ := NewReceipt()
	if _, err := unwrapReplyIdentity(other, rec.Salt, id, rec.WrappedReply); err == nil {
		t.Fatal("reply key opened with another receipt")
	}
	if _, err := unwrapReplyIdentity(r, rec.Salt, []byte("another thread id"), rec.WrappedReply); err == nil {
		t.Fatal("reply key opened for another thread")
	}
	if _, err := unwrapReplyIdentity(r, rec.Salt, id, rec.WrappedReply); err != nil {
		t.Fatal(err)
	}
}

func TestRetention(t *testing.T) {
	_, team := testTeam(t, 1)
	c := &clock{time.Date(2026, 1, 10, 15, 4, 5, 0, time.UTC)}
	s, _ := openTest(t, c)
	old, _ := s.CreateThread("safeguarding", report("old"), team.Recipients())
	passDays(s, c, 60)
	fresh, _ := s.CreateThread("safeguarding", report("fresh"), team.Recipients())
	passDays(s, c, 31) // old: 91 days quiet; fresh: 31

	// Nobody on the team has fetched the old report: it is kept.
	if _, err := s.Thread(old); err != nil {
		t.Fatalf("an unfetched thread expired: %v", err)
	}
	if n, kept, err := s.DeleteInactive(90); err != nil || n != 0 || kept != 1 {
		t.Fatalf("deleted %d, kept %d, %v; want 0, 1", n, kept, err)
	}

	// Once the team has it, it expires like any other.
	items, _, _ := s.Pending("", 100, nil, "")
	oldInfo, _ := s.Thread(old)
	for _, it := range items {
		if it.Thread == oldInfo.ID {
			if err := s.Ack(it.ID, "Lead 1", []string{"Lead 1"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.Thread(old); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired thread still answers: %v", err)
	}
	if n, kept, err := s.DeleteInactive(90); err != nil || n != 1 || kept != 0 {
		t.Fatalf("deleted %d, kept %d, %v; want 1, 0", n, kept, err)
	}
	if _, err := s.Thread(fresh); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := s.Pending("", 100, nil, ""); len(p) != 1 {
		t.Fatalf("queue holds %d items after deletion", len(p))
	}
	s.db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bucketLookup).Stats().KeyN; n != 1 {
			t.Errorf("lookup has %d entries", n)
		}
		if n := tx.Bucket(bucketItemIdx).Stats().KeyN; n != 1 {
			t.Errorf("item index has %d entries", n)
		}
		return nil
	})
}

// A clock that goes back must not look like every thread ageing, and
// retention must refuse to run until it is right again.
func TestRetentionClockBack(t *testing.T) {
	_, team := testTeam(t, 1)
	c := &clock{time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	s, _ := openTest(t, c)
	r, _ := s.CreateThread("safeguarding", report("x"), team.Recipients())
	items, _, _ := s.Pending("", 10, nil, "")
	s.Ack(items[0].ID, "m", nil) // read by the team: only age could expire it
	if _, _, err := s.DeleteInactive(90); err != nil {
		t.Fatal(err)
	}
	c.t = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) // a dead clock battery
	if _, err := s.Thread(r); err != nil {
		t.Fatalf("thread vanished when the clock went back: %v", err)
	}
	n, _, err := s.DeleteInactive(90)
	if !errors.Is(err, ErrClock) || n != 0 {
		t.Fatalf("retention with the clock gone back: deleted %d, %v", n, err)
	}
	c.t = time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC)
	if n, _, err := s.DeleteInactive(90); err != nil || n != 0 {
		t.Fatalf("retention after the clock was fixed: %d, %v", n, err)
	}
	if _, err := s.Thread(r); err != nil {
		t.Fatal(err)
	}
}

// An item leaves the queue only when every current team member has it:
// an acknowledgement from someone since removed from the team does not
// count.
func TestAckQuorumCurrentMembers(t *testing.T) {
	_, team := testTeam(t, 1)
	s, _ := openTest(t, nil)
	s.CreateThread("safeguarding", report("x"), team.Recipients())
	items, _, _ := s.Pending("", 10, nil, "")
	id := items[0].ID
	s.Ack(id, "A", []string{"A", "B", "C"})
	// A leaves the team; B acknowledges.
	s.Ack(id, "B", []string{"B", "C"})
	if p, _, _ := s.Pending("", 10, nil, "C"); len(p) != 1 {
		t.Fatal("C lost the item to a removed member's acknowledgement")
	}
	s.Ack(id, "C", []string{"B", "C"})
	if p, _, _ := s.Pending("", 10, nil, ""); len(p) != 0 {
		t.Fatal("item still queued after every current member has it")
	}
}

func TestOnlyCalendarDays(t *testing.T) {
	_, team := testTeam(t, 1)
	c := &clock{time.Date(2026, 3, 4, 13, 47, 59, 0, time.UTC)}
	s, path := openTest(t, c)
	if _, err := s.CreateThread("safeguarding", report("x"), team.Recipients()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, _ := os.ReadFile(path)
	for _, precise := range []string{"13:47", "1347", "T13", "1772632079", "1772632"} {
		if bytes.Contains(raw, []byte(precise)) {
			t.Errorf("store holds a precise time (%s)", precise)
		}
	}
	if !bytes.Contains(raw, []byte("2026-03-04")) {
		t.Error("calendar day missing")
	}
}

func TestCanaryNotInDatabase(t *testing.T) {
	ms, team := testTeam(t, 3)
	s, path := openTest(t, nil)
	const canary = "canary-plaintext-7f3a9e-zebra"
	var receipts []Receipt
	for range 5 {
		r, err := s.CreateThread("safeguarding", &Envelope{
			Fields:      []Field{{"message", canary}, {"contact", canary + "-contact"}},
			Attachments: []Attachment{{Name: canary + ".txt", Type: "text/plain", Data: []byte(canary)}},
		}, team.Recipients())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.FollowUp(r, report(canary+"-followup"), team.Recipients()); err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, r)
	}
	// Collect the unwrapped reply secrets, then make sure they are not stored.
	var secrets []string
	items, _, _ := s.Pending("", 100, nil, "")
	for _, it := range items {
		if it.Kind != KindReport {
			continue
		}
		e, err := Open(it.Sealed, ms[0].Identity())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(e.ReplyTo, "age1pq1") {
			t.Fatal("no reply recipient")
		}
	}
	s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketThreads).ForEachBucket(func(k []byte) error {
			var rec threadRecord
			getJSON(tx.Bucket(bucketThreads).Bucket(k), keyInfo, &rec)
			for _, r := range receipts {
				if id, err := unwrapReplyIdentity(r, rec.Salt, k, rec.WrappedReply); err == nil {
					secrets = append(secrets, id.String())
				}
			}
			return nil
		})
	})
	if len(secrets) != 5 {
		t.Fatalf("unwrapped %d reply secrets", len(secrets))
	}
	s.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, needle string) {
		t.Helper()
		for _, form := range []string{needle, strings.ToLower(needle)} {
			if bytes.Contains(raw, []byte(form)) {
				t.Errorf("%s found in the database file", what)
			}
		}
	}
	check("canary", canary)
	check("canary fragment", canary[:16])
	for _, r := range receipts {
		check("receipt", r.Reveal())
		check("canonical receipt", string(r.canonical()))
		check("receipt fragment", string(r.canonical()[:12]))
	}
	for _, sec := range secrets {
		check("reply secret", sec)
		check("reply secret fragment", sec[20:60])
	}
}

func TestOpenRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()

	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)
	if _, err := OpenStore(empty, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("empty file: %v", err)
	}

	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 1000), 0o600)
	before, _ := os.ReadFile(garbage)
	_, err := OpenStore(garbage, nil)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "backup") {
		t.Fatalf("garbage file: %v", err)
	}
	if after, _ := os.ReadFile(garbage); !bytes.Equal(before, after) {
		t.Fatal("damaged file was changed")
	}

	// A store whose pages are damaged after its meta pages.
	_, team := testTeam(t, 1)
	dmg := filepath.Join(dir, "damaged.db")
	s, err := OpenStore(dmg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		s.CreateThread("safeguarding", report(strings.Repeat("x", 3000)), team.Recipients())
	}
	s.Close()
	raw, _ := os.ReadFile(dmg)
	for i := 4 * 4096; i < len(raw); i += 4096 {
		copy(raw[i:i+64], bytes.Repeat([]byte{0xA5}, 64))
	}
	os.WriteFile(dmg, raw, 0o600)
	if _, err := OpenStore(dmg, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damaged pages: %v", err)
	}

	// A bbolt file that is not a Hearken store.
	foreign := filepath.Join(dir, "foreign.db")
	db, _ := bolt.Open(foreign, 0o600, nil)
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })
	db.Close()
	if _, err := OpenStore(foreign, nil); !errors.Is(err, ErrSchema) {
		t.Fatalf("foreign file: %v", err)
	}

	// A newer schema.
	newer := filepath.Join(dir, "newer.db")
	s, _ = OpenStore(newer, nil)
	s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, []byte(strconv.Itoa(SchemaVersion+1)))
	})
	s.Close()
	_, err = OpenStore(newer, nil)
	if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("newer schema: %v", err)
	}
}

func TestOpenLocked(t *testing.T) {
	s, path := openTest(t, nil)
	_ = s
	_, err := OpenStore(path, &Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("got %v", err)
	}
}

func TestBackup(t *testing.T) {
	ms, team := testTeam(t, 1)
	s, _ := openTest(t, nil)
	r, _ := s.CreateThread("safeguarding", report("keep me"), team.Recipients())
	out := filepath.Join(t.TempDir(), "backup.db")
	if _, err := s.BackupFile(out); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Fatal("backup not 0600")
	}
	if _, err := s.BackupFile(out); !errors.Is(err, ErrExists) {
		t.Fatalf("backup overwrote: %v", err)
	}
	b, err := OpenStore(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Thread(r); err != nil {
		t.Fatal("receipt does not find its thread in the backup")
	}
	items, _, _ := b.Pending("", 10, nil, "")
	if e, err := Open(items[0].Sealed, ms[0].Identity()); err != nil || e.Field("message") != "keep me" {
		t.Fatal("backup report does not open")
	}
	bad := filepath.Join(t.TempDir(), "bad.db")
	os.WriteFile(bad, []byte("nope"), 0o600)
	if err := VerifyBackup(bad); err == nil {
		t.Fatal("bad backup verified")
	}
}

func parseHybridRecipient(s string) (*age.HybridRecipient, error) {
	return age.ParseHybridRecipient(s)
}

// Deleted threads must not linger in the file's free pages, in the live
// store after compaction or in a backup.
func TestNoRemanence(t *testing.T) {
	_, team := testTeam(t, 1)
	c := &clock{time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)}
	s, path := openTest(t, c)
	var receipts []Receipt
	for range 20 {
		r, _ := s.CreateThread("safeguarding", report(strings.Repeat("x", 3000)), team.Recipients())
		receipts = append(receipts, r)
	}
	items, _, _ := s.Pending("", 100, nil, "")
	var doomed [][]byte
	for _, it := range items {
		doomed = append(doomed, it.Sealed[len(it.Sealed)-64:]) // ciphertext tails
		s.Ack(it.ID, "m", nil)
	}
	passDays(s, c, 100)
	if n, _, err := s.DeleteInactiveAllowLarge(90); err != nil || n != 20 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	lingering := func(file string) int {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, d := range doomed {
			if bytes.Contains(raw, d) {
				n++
			}
		}
		return n
	}
	if lingering(path) == 0 {
		t.Log("bbolt reused every freed page already; the check below still stands")
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if _, err := s.BackupFile(backup); err != nil {
		t.Fatal(err)
	}
	if n := lingering(backup); n != 0 {
		t.Fatalf("%d deleted envelopes survive in a backup", n)
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if n := lingering(path); n != 0 {
		t.Fatalf("%d deleted envelopes survive compaction", n)
	}
	// The compacted store is whole and still takes writes.
	r, err := s.CreateThread("safeguarding", report("after"), team.Recipients())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Thread(r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Thread(receipts[0]); !errors.Is(err, ErrNotFound) {
		t.Fatal("a deleted thread came back")
	}
	// Every item was acknowledged, so the route's queue drained and counts
	// from one again; compaction keeps its counter, so the next item does
	// not take the position of one already waiting.
	if p, _, _ := s.Pending("", 100, nil, ""); len(p) != 1 || seqOf(t, s, p[0]) != 1 {
		t.Fatal("a drained queue did not count from one again")
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateThread("safeguarding", report("and after"), team.Recipients()); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := s.Pending("", 100, nil, ""); len(p) != 2 || seqOf(t, s, p[1]) != 2 {
		t.Fatal("the queue's counter went back after compaction")
	}
}

// A write that fails for want of room is ErrFull, whatever wraps it.
func TestWriteErrFull(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT} {
		err := writeErr(fmt.Errorf("commit: %w", &os.PathError{Op: "write", Path: "hearken.db", Err: errno}))
		if !errors.Is(err, ErrFull) || !errors.Is(err, errno) {
			t.Errorf("%v: %v", errno, err)
		}
	}
	if err := writeErr(syscall.EIO); errors.Is(err, ErrFull) {
		t.Errorf("EIO: %v", err)
	}
}
