package cases

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

type storeFixture struct {
	dir     string
	m       *vault.Member
	peer    *vault.Member
	team    *vault.Team
	st      *Store
	threads uint64
	reply   *age.HybridIdentity // a thread's reply identity, as the reporter holds it
	now     time.Time
}

func newStoreFixture(t *testing.T) *storeFixture {
	t.Helper()
	f := &storeFixture{dir: t.TempDir(), now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	var err error
	if f.m, err = vault.GenerateMember("Dana Lead"); err != nil {
		t.Fatal(err)
	}
	if f.peer, err = vault.GenerateMember("Sam Deputy"); err != nil {
		t.Fatal(err)
	}
	if f.team, err = vault.ParseTeam(strings.NewReader(f.m.TeamLine() + "\n" + f.peer.TeamLine())); err != nil {
		t.Fatal(err)
	}
	if f.reply, err = age.GenerateHybridIdentity(); err != nil {
		t.Fatal(err)
	}
	// The team file, as reviewer init --team FILE --route students keeps it.
	if err := os.MkdirAll(filepath.Join(f.dir, teamsDir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, teamsDir, "students.txt"), []byte(f.m.TeamLine()+"\n"+f.peer.TeamLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.open(t)
	return f
}

func (f *storeFixture) open(t *testing.T) {
	t.Helper()
	st, err := Open(f.dir, f.m, true)
	if err != nil {
		t.Fatal(err)
	}
	st.now = func() time.Time { return f.now }
	f.st = st
	t.Cleanup(func() { st.Close() })
}

// item seals an envelope to the team as the server would and labels it;
// a reply is signed by the fixture's colleague, Sam Deputy, as his
// reviewer signs one.
func (f *storeFixture) item(t *testing.T, thread string, kind vault.Kind, day string, fields ...string) staff.Item {
	t.Helper()
	id := uuid.NewString()
	e := &vault.Envelope{Kind: kind, Day: day, Route: "students"}
	for i := 0; i+1 < len(fields); i += 2 {
		e.Fields = append(e.Fields, vault.Field{Name: fields[i], Value: fields[i+1]})
	}
	if kind == vault.KindReport {
		e.ReplyTo = f.reply.Recipient().String()
	}
	if kind == vault.KindReply {
		data, _ := json.Marshal(eventData{ReplyKey: Fingerprint(f.reply.Recipient().String())})
		var err error
		e, err = vault.SignItem(f.peer, &vault.Signed{Thread: thread, ID: id, Kind: kind, Lamport: 1, Day: day,
			Route: "students", Fields: e.Fields, Data: data})
		if err != nil {
			t.Fatal(err)
		}
	}
	sealed, err := vault.Seal(e, f.team.Recipients()...)
	if err != nil {
		t.Fatal(err)
	}
	return staff.Item{ID: id, Thread: thread, Route: "students", Kind: kind, Day: day, Sealed: sealed}
}

type boltTx = bolt.Tx

// TestStoreOldSchema refuses a store of another schema without touching it.
func TestStoreOldSchema(t *testing.T) {
	f := newStoreFixture(t)
	f.st.db.Update(func(tx *boltTx) error { return tx.Bucket(bMeta).Put(kSchema, []byte("1")) })
	f.st.Close()
	before, _ := os.ReadFile(storePath(f.dir))
	if _, err := Open(f.dir, f.m, true); !errors.Is(err, ErrStoreCorrupt) || !strings.Contains(err.Error(), "another version") {
		t.Errorf("old schema: %v", err)
	}
	if after, _ := os.ReadFile(storePath(f.dir)); !bytes.Equal(before, after) {
		t.Error("opening an old store changed it")
	}
}

func TestStoreRefusals(t *testing.T) {
	f := newStoreFixture(t)
	f.st.Close()
	// Another identity.
	other, _ := vault.GenerateMember("Other")
	if _, err := Open(f.dir, other, false); !errors.Is(err, ErrOtherIdentity) {
		t.Errorf("other identity: %v", err)
	}
	// No store yet, without create.
	if _, err := Open(t.TempDir(), f.m, false); !errors.Is(err, ErrNoStore) {
		t.Errorf("missing store: %v", err)
	}
	// A damaged store is refused, and left exactly as it was.
	path := storePath(f.dir)
	data, _ := os.ReadFile(path)
	for i := 0; i < 8192 && i < len(data); i++ {
		data[i] = 0xAA
	}
	os.WriteFile(path, data, 0o600)
	before, _ := os.ReadFile(path)
	_, err := Open(f.dir, f.m, true)
	if !errors.Is(err, ErrStoreCorrupt) || !strings.Contains(err.Error(), "not recreate") {
		t.Errorf("corrupt store: %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("opening a damaged store changed it")
	}
	// An empty file is damaged too, not a new store.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, storeFile), nil, 0o600)
	if _, err := Open(dir, f.m, true); !errors.Is(err, ErrStoreCorrupt) {
		t.Errorf("empty store: %v", err)
	}
}

// TestOpenOldStore opens a store written by the reviewer of before this
// package existed (testdata/store-v2: schema 2, made with the member in
// member.identity, passphrase "correct horse battery staple", at a low
// scrypt work factor) and checks it reads as it did then (expected.json,
// written by that code, with the danger_now flags added since, and since
// case records are shared: each case under its shared number, found by its
// former one too, and named with it; triage and chronology entries kept as
// this computer's own, marked local; replies marked as from before replies
// were signed; the reply key's fingerprint), and still takes changes.
func TestOpenOldStore(t *testing.T) {
	src := filepath.Join("testdata", "store-v2")
	dir := t.TempDir()
	gz, err := os.Open(filepath.Join(src, "cases.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer gz.Close()
	zr, err := gzip.NewReader(gz)
	if err != nil {
		t.Fatal(err)
	}
	db, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(storePath(dir), db, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"config.toml", filepath.Join("teams", "students.txt")} {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m, err := vault.LoadMember(filepath.Join(src, "member.identity"), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	// Schema 2 kept the server's queue positions: opening it drops them.
	var hadSeq bool
	if db, err := bolt.Open(storePath(dir), 0o600, nil); err == nil {
		db.View(func(tx *boltTx) error {
			hadSeq = tx.Bucket(bMeta).Get(kCursorV2) != nil
			return nil
		})
		db.Close()
	}
	if !hadSeq {
		t.Fatal("the old store has no cursor: the test would prove nothing")
	}
	st, err := Open(dir, m, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	noPositions(t, st)
	st.now = func() time.Time { return time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC) }

	cs, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	views := map[string]any{"list": cs}
	nums := map[uint64]uint64{}
	for former := uint64(1); former <= 3; former++ {
		// The case this computer numbered HK-0001 is found by that number
		// still, and shown under its shared one.
		n, err := st.FindCase(fmt.Sprintf("HK-%04d", former))
		if err != nil {
			t.Fatal(err)
		}
		nums[former] = n
		cv, err := st.Show(n)
		if err != nil {
			t.Fatal(err)
		}
		views[fmt.Sprintf("HK-%04d", former)] = cv
	}
	out, err := st.outbox()
	if err != nil {
		t.Fatal(err)
	}
	views["outbox"] = len(out)
	if views["rejected"], err = st.rejectedItems(); err != nil {
		t.Fatal(err)
	}
	toack, err := st.toAck()
	if err != nil {
		t.Fatal(err)
	}
	views["toack"] = len(toack)
	var got bytes.Buffer
	enc := json.NewEncoder(&got)
	enc.SetIndent("", "  ")
	if err := enc.Encode(views); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(src, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		os.WriteFile(filepath.Join(os.TempDir(), "store-v2-got.json"), got.Bytes(), 0o600)
		t.Errorf("the old store reads differently now:\n%s\nwant:\n%s", got.String(), want)
	}

	// Its reply written before replies were signed and not yet sent is
	// signed when it is sent, sealed to the case's reporter and team.
	if len(out) != 1 || !out[0].legacy {
		t.Fatalf("outbox %+v", out)
	}
	resigned, err := st.resignReply(out[0])
	if err != nil {
		t.Fatal(err)
	}
	e, err := vault.Open(resigned, m.Identity())
	if err != nil {
		t.Fatal(err)
	}
	if sg, err := e.Verify(out[0].Thread, out[0].ID); err != nil || sg.Author != vault.FormatSigningKey(m.SigningPublic()) || e.Field("message") != "Thank you for telling us." {
		t.Errorf("re-signed reply: %+v, %v", sg, err)
	}
	if again, _ := st.outbox(); len(again) != 1 || again[0].legacy || !bytes.Equal(again[0].Sealed, resigned) {
		t.Error("the re-signed reply did not take the old one's place")
	}

	// Its settings and team file are read as before, and it takes changes.
	cfg, err := LoadConfig(dir)
	if err != nil || cfg.Server != "unix:/var/lib/hearken/staff.sock" {
		t.Errorf("config: %+v, %v", cfg, err)
	}
	team, err := st.TeamFor("students")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Reply(nums[2], "Thank you again.", team); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Triage(nums[2], TriageChange{Status: "closed"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Note(nums[3], "closed after a talk", 0); err != nil {
		t.Fatal(err)
	}
	cv, err := st.Show(nums[2])
	if err != nil {
		t.Fatal(err)
	}
	if cv.Status != "closed" || cv.Queued != 1 || cv.Messages[len(cv.Messages)-1].Fields[0].Value != "Thank you again." {
		t.Errorf("after changes: %+v", cv.CaseSummary)
	}
}

// thread returns a new thread id whose case number is the fixture's next:
// HK-0000-0001, HK-0000-0002, ...
func (f *storeFixture) thread() string {
	f.threads++
	return testThread(f.threads)
}

// testThread is a random thread id whose first 40 bits, and so its case
// number, are n.
func testThread(n uint64) string {
	u := uuid.New()
	for i := 4; i >= 0; i-- {
		u[i] = byte(n)
		n >>= 8
	}
	return u.String()
}
