package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hearken-project/hearken/internal/testkit"
)

// The real intake serve, under load from internal/loadtest's reporters,
// killed, starved of disk and handed damaged stores. vault's own tests
// (crash_test.go, damage_test.go) prove the store; these prove the program
// around it.

// TestKillUnderLoad kills intake serve with SIGKILL five times while
// sixteen reporters report, each time once more receipts have been shown,
// and restarts it on the same store: afterwards every receipt any reporter
// was shown opens its thread. A receipt is shown only after its report is
// durably committed, so a kill loses only reports nobody was told about.
func TestKillUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a loaded server five times")
	}
	dir := intakeConfig(t, "submissions_per_minute = 1000000\nmax_concurrent_submissions = 16\n")
	data := filepath.Join(dir, "data")
	var shown receipts
	for round := range 5 {
		p := serveIntake(t, dir, data)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			p.reporters(ctx, t, 16, 10*time.Minute, 1<<20, 0, shown.add)
		}()
		// Kill it in the middle of the flow: once a few more receipts have
		// been shown, with the other reporters' reports in flight.
		want := shown.len() + 20 + 7*round
		if err := testkit.WaitFor(2*time.Minute, func() bool { return shown.len() >= want }); err != nil {
			t.Fatalf("round %d: %d receipts shown: %v\n%s", round, shown.len(), err, p.stderr)
		}
		p.signal(t, syscall.SIGKILL)
		cancel()
		<-done
		if !strings.Contains(p.cmd.ProcessState.String(), "killed") {
			t.Fatalf("round %d: intake was not killed: %v", round, p.cmd.ProcessState)
		}
	}
	p := serveIntake(t, dir, data)
	codes := shown.all()
	for _, code := range codes {
		if !p.opens(t, code) {
			t.Fatalf("a receipt shown before a kill does not open its thread (%d receipts in all)\n%s", len(codes), p.stderr)
		}
	}
	t.Logf("%d receipts shown over 5 kills; every one opens its thread", len(codes))
}

// TestFullDiskUnderLoad runs intake serve with its store on a small tmpfs
// and eight reporters until the disk is full: every report is answered
// with a receipt or a calm 503 (never a 500, never a dropped connection),
// and every receipt opens its thread. When space returns, reports are
// taken again without a restart; after one, the store opens whole.
// (intake's TestFullDisk checks the pages' words, follow-ups and replies.)
func TestFullDiskUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a disk")
	}
	disk := testkit.MountTmpfs(t, 4<<20)
	dir := intakeConfig(t, "submissions_per_minute = 1000000\n")
	data := filepath.Join(disk, "data")
	p := serveIntake(t, dir, data)

	var st syscall.Statfs_t
	if err := syscall.Statfs(disk, &st); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(disk, "filler")
	if err := os.WriteFile(filler, make([]byte, int(st.Bavail)*int(st.Bsize)-400<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	var shown receipts
	ctx := context.Background()
	full := p.reporters(ctx, t, 8, 5*time.Minute, 600, 0, shown.add)
	t.Logf("disk filling: %d reports, %d receipts, answers %v", full.Submitted, full.Accepted, full.Errors)
	if full.Errors["report status 503"] == 0 || full.Accepted == 0 {
		t.Fatalf("the disk never filled, or filled at once: %d receipts, answers %v", full.Accepted, full.Errors)
	}
	for kind, n := range full.Errors {
		if kind != "report status 503" && kind != "check status 503" {
			t.Errorf("%d answers %q on a full disk: want a receipt or a calm 503", n, kind)
		}
	}
	for _, code := range shown.all() {
		if !p.opens(t, code) {
			t.Fatalf("a receipt shown while the disk filled does not open its thread\n%s", p.stderr)
		}
	}
	if !strings.Contains(p.stderr.String(), "the disk is full") {
		t.Errorf("the log does not say the disk is full:\n%s", p.stderr)
	}

	// Space again: reports are taken, by the same process.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	again := p.reporters(ctx, t, 4, 5*time.Minute, 40, 0, shown.add)
	if again.ErrorCount() > 0 || again.Accepted == 0 {
		t.Fatalf("with space again and no restart: %d receipts, answers %v", again.Accepted, again.Errors)
	}
	p.signal(t, syscall.SIGTERM)
	p = serveIntake(t, dir, data)
	for _, code := range shown.all() {
		if !p.opens(t, code) {
			t.Fatalf("after a restart, a receipt shown does not open its thread\n%s", p.stderr)
		}
	}
	t.Logf("%d receipts in all; every one opens its thread after a restart", shown.len())
}

// TestDamagedStoreRefused hands intake serve a real store, damaged as
// disks and bad restores damage files: it refuses to start, says what is
// wrong and what to do, leaves the file byte for byte as it was, and
// leaves nothing else behind (no socket, no half-written copy).
// vault/damage_test.go flips every page; this checks the program's answer.
func TestDamagedStoreRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a store with the real server")
	}
	dir := intakeConfig(t, "submissions_per_minute = 1000000\n")
	p := serveIntake(t, dir, filepath.Join(dir, "data"))
	if lvl := p.reporters(context.Background(), t, 4, 5*time.Minute, 60, 0, nil); lvl.Accepted == 0 {
		t.Fatalf("no reports stored: %v", lvl.Errors)
	}
	p.signal(t, syscall.SIGTERM)
	raw, err := os.ReadFile(filepath.Join(dir, "data", "hearken.db"))
	if err != nil {
		t.Fatal(err)
	}
	// bbolt's meta pages are pages 0 and 1; the page size is 24 bytes
	// into the first, the transaction id 64 bytes into each.
	ps := int(binary.NativeEndian.Uint32(raw[16+8:]))
	newer := 0
	if binary.NativeEndian.Uint64(raw[ps+16+48:]) > binary.NativeEndian.Uint64(raw[16+48:]) {
		newer = 1
	}
	damaged := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(raw)) }
	for _, tc := range []struct {
		name string
		file []byte
		says []string
	}{
		{"cut short", raw[:len(raw)/2], []string{"damaged", "cut short", "backup"}},
		{"newest commit damaged", damaged(func(b []byte) []byte { b[newer*ps+16+48] ^= 0x01; return b }),
			[]string{"newest commit", "--accept-rollback", "backup"}},
		{"data page damaged", damaged(func(b []byte) []byte { b[2*ps] ^= 0x04; return b }), []string{"damaged", "backup"}},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "-"), func(t *testing.T) {
			run := t.TempDir()
			data := filepath.Join(run, "data")
			if err := os.MkdirAll(data, 0o700); err != nil {
				t.Fatal(err)
			}
			store := filepath.Join(data, "hearken.db")
			if err := os.WriteFile(store, tc.file, 0o600); err != nil {
				t.Fatal(err)
			}
			exe, _ := os.Executable()
			cmd := exec.Command(exe, "serve", "--config", filepath.Join(dir, "intake.toml"), "--data", data,
				"--listen", "unix:"+filepath.Join(run, "intake.sock"), "--staff-listen", "off")
			cmd.Args[0] = "intake"
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if cmd.ProcessState == nil || !cmd.ProcessState.Exited() || cmd.ProcessState.ExitCode() == 0 {
				t.Fatalf("intake serve did not refuse the store: %v\n%s", err, stderr.String())
			}
			out := stderr.String()
			for _, s := range tc.says {
				if !strings.Contains(out, s) {
					t.Errorf("the refusal does not say %q:\n%s", s, out)
				}
			}
			if strings.Contains(out, "goroutine ") || strings.Contains(out, "panic") || strings.Contains(out, "SIGBUS") {
				t.Errorf("a crash instead of a refusal:\n%s", out)
			}
			got, err := os.ReadFile(store)
			if err != nil || !bytes.Equal(got, tc.file) {
				t.Errorf("the refused store was changed (%v)", err)
			}
			var left []string
			for _, d := range []string{data, run} {
				entries, _ := os.ReadDir(d)
				for _, e := range entries {
					if e.Name() != "hearken.db" && e.Name() != "data" {
						left = append(left, filepath.Join(filepath.Base(d), e.Name()))
					}
				}
			}
			if len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}
