package intake

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hearken-project/hearken/vault"
)

func TestDailyBackup(t *testing.T) {
	store, err := vault.OpenStore(filepath.Join(t.TempDir(), "hearken.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	dir := filepath.Join(t.TempDir(), "backups")
	day := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		path, err := dailyBackup(store, dir, 3, day.AddDate(0, 0, i))
		if err != nil || path == "" {
			t.Fatalf("day %d: %q %v", i, path, err)
		}
		if err := vault.VerifyBackup(path); err != nil {
			t.Fatal(err)
		}
	}
	// A second run on the same day leaves today's backup alone.
	if path, err := dailyBackup(store, dir, 3, day.AddDate(0, 0, 4)); err != nil || path != "" {
		t.Fatalf("same day: %q %v", path, err)
	}
	got, _ := filepath.Glob(filepath.Join(dir, "*.db"))
	want := []string{"hearken-2026-05-03.db", "hearken-2026-05-04.db", "hearken-2026-05-05.db"}
	if len(got) != len(want) {
		t.Fatalf("kept %v", got)
	}
	for i := range want {
		if filepath.Base(got[i]) != want[i] {
			t.Fatalf("kept %v, want %v", got, want)
		}
		if fi, _ := os.Stat(got[i]); fi.Mode().Perm() != 0o600 {
			t.Fatalf("backup mode %v", fi.Mode().Perm())
		}
	}
}

func TestCheckStaffAddr(t *testing.T) {
	for addr, ok := range map[string]bool{
		"unix:/run/hearken/staff.sock": true,
		"127.0.0.1:9000":               true,
		"[::1]:9000":                   true,
		"localhost:9000":               true,
		"0.0.0.0:9000":                 false,
		"192.0.2.10:9000":              false,
		":9000":                        false,
		"nonsense":                     false,
	} {
		if err := checkStaffAddr(addr); (err == nil) != ok {
			t.Errorf("%s: got %v", addr, err)
		}
	}
}
