package intake

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/vault"
)

// damagedStore makes a config and a store with a few reports in a fresh
// folder, damages the store as kind says, and leaves a partial compaction
// beside it, as a crash in compaction would.
func damagedStore(t *testing.T, kind string) (cfg *config, dataDir string, raw []byte) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := loadConfig(writeConfig(t, dir, ""))
	if err != nil {
		t.Fatal(err)
	}
	dataDir = filepath.Join(dir, "data")
	store, err := openStore(dataDir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		report := &vault.Envelope{Fields: []vault.Field{{Name: "message", Value: strings.Repeat("words ", 40+i*90)}}}
		if _, err := store.CreateThread("safeguarding", report, cfg.Routes[0].Team.Recipients()); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	path := filepath.Join(dataDir, storeFile)
	raw, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// bbolt's meta records, 16 bytes into pages 0 and 1: page size at +8,
	// high-water mark at +40, txid at +48.
	ne := binary.NativeEndian
	ps := int(ne.Uint32(raw[16+8:]))
	newer := 0
	if ne.Uint64(raw[ps+16+48:]) > ne.Uint64(raw[16+48:]) {
		newer = 1
	}
	pages := int(ne.Uint64(raw[newer*ps+16+40:]))
	switch kind {
	case "truncated":
		raw = raw[:pages*ps/2]
	case "newest commit":
		raw[newer*ps+16+40] ^= 0x01
	case "pages":
		// The size of the first value on the last leaf page: a flip bbolt's
		// check does not look at, which sent the server into a fault.
		leaf := 0
		for pg := 2; pg < pages; pg++ {
			if ne.Uint64(raw[pg*ps:]) == uint64(pg) && ne.Uint16(raw[pg*ps+8:]) == 0x02 && ne.Uint16(raw[pg*ps+10:]) > 0 {
				leaf = pg
			}
		}
		if leaf == 0 {
			t.Fatal("no leaf page")
		}
		raw[leaf*ps+16+15] ^= 0x40
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".compact", []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, dataDir, raw
}

// A damaged store stops the server before it serves or writes anything:
// with a message, the store left byte for byte as it was, and no sockets or
// partial files behind.
func TestServeRefusesDamagedStore(t *testing.T) {
	t.Parallel()
	for kind, want := range map[string]string{
		"truncated":     "cut short",
		"newest commit": "newest commit",
		"pages":         "consistency check",
	} {
		t.Run(kind, func(t *testing.T) {
			cfg, dataDir, raw := damagedStore(t, kind)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var logs testkit.Buffer
			err := serve(ctx, cfg, serveOptions{
				DataDir:     dataDir,
				Listen:      "unix:" + filepath.Join(dataDir, "intake.sock"),
				StaffListen: []string{"unix:" + filepath.Join(dataDir, "staff.sock")},
				Logger:      zerolog.New(&logs),
				Ready: func(_ net.Addr) {
					t.Error("the server started on a damaged store")
					cancel()
				},
			})
			if !errors.Is(err, vault.ErrCorrupt) || !strings.Contains(err.Error(), want) {
				t.Fatalf("got %v, want a damaged store saying %q", err, want)
			}
			got, _ := os.ReadFile(filepath.Join(dataDir, storeFile))
			if !bytes.Equal(got, raw) {
				t.Error("the damaged store was changed")
			}
			left, _ := filepath.Glob(filepath.Join(dataDir, "*"))
			if len(left) != 1 {
				t.Errorf("files left in the data folder: %q", left)
			}
		})
	}
}

// The newest commit record damaged: serve says what happened and both ways
// on; --accept-rollback starts, and says what it did.
func TestServeRollback(t *testing.T) {
	cfg, dataDir, raw := damagedStore(t, "newest commit")
	dir := filepath.Dir(dataDir)
	var stdout, stderr bytes.Buffer
	status := Main([]string{"serve", "--config", filepath.Join(dir, "intake.toml"), "--data", dataDir, "--listen", "127.0.0.1:0"}, &stdout, &stderr)
	if status != 1 || !strings.Contains(stderr.String(), "intake: hint: either restore the newest backup") ||
		!strings.Contains(stderr.String(), "--accept-rollback") {
		t.Fatalf("status %d:\n%s", status, stderr.String())
	}
	t.Logf("the operator sees:\n%s", stderr.String())
	if got, _ := os.ReadFile(filepath.Join(dataDir, storeFile)); !bytes.Equal(got, raw) {
		t.Fatal("the store was changed")
	}

	ctx, cancel := context.WithCancel(context.Background())
	var logs testkit.Buffer
	err := serve(ctx, cfg, serveOptions{
		DataDir: dataDir, Listen: "127.0.0.1:0", Logger: zerolog.New(&logs), AcceptRollback: true,
		Ready: func(net.Addr) { cancel() },
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "rolled back") {
		t.Fatalf("no word of the rollback in the log:\n%s", logs.String())
	}
}
