package intake

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// One bit flipped in a staff queue entry, end to end: the server says so
// at start-up with the command that repairs it, the staff channel tells the
// team how many items it cannot send, and intake repair keeps a copy of
// the store, rebuilds the queue, and the team gets every item.
func TestQueueDamageRepair(t *testing.T) {
	dir := t.TempDir()
	cfg, err := loadConfig(writeConfig(t, dir, ""))
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	store, err := openStore(dataDir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	for range n {
		e := &vault.Envelope{Fields: []vault.Field{{Name: "message", Value: "a report"}}}
		if _, err := store.CreateThread("safeguarding", e, cfg.Routes[0].Team.Recipients()); err != nil {
			t.Fatal(err)
		}
	}
	items, _, _ := store.Pending("", 100, nil, "")
	victim := items[2]
	store.Close()

	// The entry is {"thread":<id>,"item":<id>} in JSON, ids in
	// base64; flip a bit of a letter of the thread id wherever the file
	// holds it (a free page may hold an old copy too).
	path := filepath.Join(dataDir, storeFile)
	raw, _ := os.ReadFile(path)
	b64 := func(id string) string { u := uuid.MustParse(id); return base64.StdEncoding.EncodeToString(u[:]) }
	entry := []byte(`{"thread":"` + b64(victim.Thread) + `","item":"` + b64(victim.ID) + `"}`)
	at := len(`{"thread":"`)
	for !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", rune(entry[at]^1)) {
		at++
	}
	flips := 0
	for i := 0; ; {
		j := bytes.Index(raw[i:], entry)
		if j < 0 {
			break
		}
		raw[i+j+at] ^= 0x01
		flips++
		i += j + 1
	}
	if flips == 0 {
		t.Fatal("the entry is not in the file")
	}
	os.WriteFile(path, raw, 0o600)

	// Start-up says what is wrong and what to run.
	var logs testkit.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	err = serve(ctx, cfg, serveOptions{DataDir: dataDir, Listen: "127.0.0.1:0", Logger: zerolog.New(&logs), Ready: func(net.Addr) { cancel() }})
	if err != nil {
		t.Fatal(err)
	}
	want := "the staff queue is damaged: it cannot send 1 of the items waiting for the team until it is rebuilt from the threads' records. Nothing is lost: those threads are kept. Stop the service and run: intake repair --data " + dataDir
	if !strings.Contains(logs.String(), want) {
		t.Fatalf("start-up log:\n%s", logs.String())
	}
	t.Logf("the operator sees:\n%s", logs.String())

	sync := func() staff.ItemsResponse {
		t.Helper()
		store, err := openStore(dataDir, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		h := NewStaffHandler(store, map[string]*vault.Team{"safeguarding": cfg.Routes[0].Team}, zerolog.Nop())
		f := &staffFixture{h: h}
		return decodeJSON[staff.ItemsResponse](t, f.do(signedReq(t, member(t), "GET", staff.ItemsPath, "", nil)))
	}
	if resp := sync(); len(resp.Items) != n-1 || resp.Undeliverable != 1 {
		t.Fatalf("sync with the damaged entry: %d items, undeliverable %d", len(resp.Items), resp.Undeliverable)
	}

	before, _ := os.ReadFile(path)
	var stdout, stderr bytes.Buffer
	if status := Main([]string{"repair", "--data", dataDir}, &stdout, &stderr); status != 0 {
		t.Fatalf("intake repair = %d\n%s%s", status, stdout.String(), stderr.String())
	}
	t.Logf("intake repair:\n%s", stdout.String())
	if kept, _ := os.ReadFile(path + ".before-repair"); !bytes.Equal(kept, before) {
		t.Error("the copy kept before the repair is not the store as it was")
	}
	resp := sync()
	if len(resp.Items) != n || resp.Undeliverable != 0 {
		t.Fatalf("sync after the repair: %d items, undeliverable %d", len(resp.Items), resp.Undeliverable)
	}
	found := false
	for _, it := range resp.Items {
		found = found || (it.ID == victim.ID && bytes.Equal(it.Sealed, victim.Sealed))
	}
	if !found {
		t.Fatal("the item behind the damaged entry was not delivered after the repair")
	}
	stdout.Reset()
	Main([]string{"repair", "--data", dataDir}, &stdout, &stderr)
	if !strings.Contains(stdout.String(), "nothing to repair") {
		t.Fatalf("a second repair:\n%s", stdout.String())
	}
}
