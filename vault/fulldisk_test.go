package vault

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hearken-project/hearken/internal/testkit"
)

// fillDisk writes a file in dir until the disk is full, then frees room
// bytes of it, and returns the file: remove it and the disk has room again.
func fillDisk(t *testing.T, dir string, room int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	var n int64
	for {
		w, err := f.Write(chunk)
		n += int64(w)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(max(n-room, 0)); err != nil {
		t.Fatal(err)
	}
	return path
}

// fullDiskStore opens a store on a small tmpfs and gives it threads enough
// to be larger than room, so that a copy of it cannot fit in room.
func fullDiskStore(t *testing.T, size int) (*Store, string, []Receipt, []*Member) {
	t.Helper()
	disk := testkit.MountTmpfs(t, size)
	ms, team := testTeam(t, 1)
	path := filepath.Join(disk, "hearken.db")
	s, err := OpenStore(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var rs []Receipt
	for range 40 {
		r, err := s.CreateThread("safeguarding", report(strings.Repeat("x", 5000)), team.Recipients())
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return s, disk, rs, ms
}

// Compaction (at 03:00, and when a queue drains) on a disk without room
// for the copy fails with an error and leaves the store as it was, serving
// every thread; once there is room again it succeeds.
func TestCompactOnFullDisk(t *testing.T) {
	s, disk, rs, _ := fullDiskStore(t, 4<<20)
	filler := fillDisk(t, disk, 64<<10)
	if err := s.Compact(); err == nil {
		t.Fatal("compaction on a full disk reported success")
	}
	if _, err := os.Stat(s.path + compactSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a failed compaction left its copy on the full disk")
	}
	for _, r := range rs {
		if _, err := s.Thread(r); err != nil {
			t.Fatalf("after a failed compaction: %v", err)
		}
	}
	if items, _, err := s.Pending("", 100, nil, ""); err != nil || len(items) != len(rs) {
		t.Fatalf("after a failed compaction: %d items pending, %v", len(items), err)
	}
	os.Remove(filler)
	if err := s.Compact(); err != nil {
		t.Fatalf("compaction once there is room: %v", err)
	}
	for _, r := range rs {
		if _, err := s.Thread(r); err != nil {
			t.Fatalf("after compaction: %v", err)
		}
	}
}

// A backup onto a disk without room for it fails with an error and leaves
// no partial file that could later pass for a backup; the live store is
// untouched.
func TestBackupOnFullDisk(t *testing.T) {
	s, _, rs, _ := fullDiskStore(t, 8<<20)
	backups := testkit.MountTmpfs(t, 1<<20)
	filler := fillDisk(t, backups, 64<<10)
	out := filepath.Join(backups, "hearken-backup.db")
	if _, err := s.BackupFile(out); err == nil || !errors.Is(err, syscall.ENOSPC) && !strings.Contains(err.Error(), "no space") {
		t.Fatalf("backup onto a full disk: %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a failed backup left a partial file")
	}
	if _, err := s.Thread(rs[0]); err != nil {
		t.Fatal(err)
	}
	os.Remove(filler)
	if _, err := s.BackupFile(out); err != nil {
		t.Fatalf("backup once there is room: %v", err)
	}
	if err := VerifyBackup(out); err != nil {
		t.Fatal(err)
	}
}

// Key files written to a full disk are not left half-written: an identity
// file cut short would be a member's keys lost with no word of it. The
// file is gone, and AddOnionKey leaves the identity file as it was.
func TestKeyFilesOnFullDisk(t *testing.T) {
	disk := testkit.MountTmpfs(t, 1<<20)
	m, _ := GenerateMember("Ms Ada Lovelace")
	old := filepath.Join(disk, "old.identity")
	noOnion := &Member{Name: m.Name, identity: m.identity, signing: m.signing}
	if err := SaveMember(old, noOnion, "pass"); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(old)
	filler := fillDisk(t, disk, 0)

	path := filepath.Join(disk, "member.identity")
	if err := SaveMember(path, m, "pass"); err == nil || !strings.Contains(err.Error(), "failed to write file") {
		t.Fatalf("SaveMember on a full disk: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a half-written identity file was left")
	}
	if err := WriteNewFile(path, bytes.Repeat([]byte("x"), 64<<10), 0o600); err == nil {
		t.Fatal("WriteNewFile on a full disk reported success")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a half-written file was left")
	}

	if _, added, err := AddOnionKey(old, "pass"); err == nil || added {
		t.Fatalf("AddOnionKey on a full disk: %v, %v", added, err)
	}
	if b, _ := os.ReadFile(old); !bytes.Equal(b, orig) {
		t.Fatal("AddOnionKey on a full disk changed the identity file")
	}
	if got, err := LoadMember(old, "pass"); err != nil || got.OnionKey() != nil {
		t.Fatalf("the identity file after a failed AddOnionKey: %v", err)
	}
	for _, leftover := range []string{old + ".new", old + ".before-onion-key"} {
		if b, err := os.ReadFile(leftover); err == nil && !bytes.Equal(b, orig) {
			t.Fatalf("%s holds something other than the identity file", filepath.Base(leftover))
		}
	}

	os.Remove(filler)
	if _, added, err := AddOnionKey(old, "pass"); err != nil || !added {
		t.Fatalf("AddOnionKey once there is room: %v, %v", added, err)
	}
}
