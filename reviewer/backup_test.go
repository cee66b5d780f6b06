package reviewer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

// TestBackupStoreInUse: while the desk (or another command) holds the
// store, backup writes nothing and points to the desk's Backup page.
func TestBackupStoreInUse(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	pass := writeFile(t, filepath.Join(dir, "pass"), "correct horse battery staple\n")
	if code, _, stderr := reviewer(t, "--store", store, "--passphrase-file", pass, "keygen", "--name", "Dana Lead"); code != 0 {
		t.Fatal(stderr)
	}
	m, err := vault.LoadMember(filepath.Join(store, "member.identity"), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	st, err := cases.Open(store, m, true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := filepath.Join(dir, "backup.age")
	code, _, stderr := reviewer(t, "--store", store, "--passphrase-file", pass, "backup", "--out", out)
	if code != 1 || !strings.Contains(stderr, "the local case store is in use") || !strings.Contains(stderr, "hint: if the desk (reviewer serve) is running, make the backup on its Backup page") {
		t.Errorf("status %d:\n%s", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a backup file was left")
	}
	st.Close()
	if code, _, stderr := reviewer(t, "--store", store, "--passphrase-file", pass, "backup", "--out", out); code != 0 {
		t.Errorf("once the store is free: %s", stderr)
	}
}

// TestRestoreDamagedBackup: a cut-short or changed backup is refused in
// plain words, with what to do, and no folder is made.
func TestRestoreDamagedBackup(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	pass := writeFile(t, filepath.Join(dir, "pass"), "correct horse battery staple\n")
	if code, _, stderr := reviewer(t, "--store", store, "--passphrase-file", pass, "keygen", "--name", "Dana Lead"); code != 0 {
		t.Fatal(stderr)
	}
	m, _ := vault.LoadMember(filepath.Join(store, "member.identity"), "correct horse battery staple")
	st, err := cases.Open(store, m, true)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	out := filepath.Join(dir, "backup.age")
	if code, _, stderr := reviewer(t, "--store", store, "--passphrase-file", pass, "backup", "--out", out); code != 0 {
		t.Fatal(stderr)
	}
	data, _ := os.ReadFile(out)
	changed := append([]byte(nil), data...)
	changed[len(changed)/2] ^= 1
	for name, b := range map[string][]byte{"cut short": data[:len(data)-100], "changed": changed} {
		bad := writeFile(t, filepath.Join(dir, "bad.age"), string(b))
		newpc := filepath.Join(dir, "newpc")
		code, _, stderr := reviewer(t, "--store", newpc, "--passphrase-file", pass, "restore", "--from", bad)
		if code != 1 || !strings.Contains(stderr, "the backup cannot be used: it was cut short, or changed after it was made; nothing was changed") ||
			!strings.Contains(stderr, "hint: use another copy of your backup") {
			t.Errorf("%s: status %d:\n%s", name, code, stderr)
		}
		if _, err := os.Stat(newpc); err == nil {
			t.Errorf("%s: the restore made the store folder", name)
		}
	}
}
