package desk

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

// TestBackupPage: the desk hands over the same backup as reviewer backup,
// after asking for the passphrase again, and it restores to the same cases.
func TestBackupPage(t *testing.T) {
	f := newFixture(t)
	f.report("message", "canary-DESK-REPORT they keep calling me names")
	f.report("message", "he said he would hurt her tonight")
	f.open()
	wantBody(t, f.get("/"), http.StatusOK, `href="/backup"`)
	wantBody(t, f.get("/backup"), http.StatusOK, `<h1>Backup</h1>`, `action="/backup"`, `type="password"`, `reviewer restore --from FILE`, `reviewer sync --again`)

	// A wrong passphrase: the page again, saying so, and no file anywhere.
	rec := f.post("/backup", url.Values{"passphrase": {"canary-WRONG-pass"}})
	wantBody(t, rec, http.StatusUnauthorized, `does not open your identity, so no backup was made`)
	notBody(t, rec, `canary-WRONG`)
	if ct := rec.Header().Get("Content-Disposition"); ct != "" {
		t.Errorf("a download for a wrong passphrase: %s", ct)
	}
	f.noBackupFiles()

	rec = f.post("/backup", url.Values{"passphrase": {passphrase}})
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Disposition"), `attachment; filename="hearken-backup-`) ||
		rec.Header().Get("Content-Type") != "application/octet-stream" || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("download: %d %v", rec.Code, rec.Header())
	}
	if rec.Header().Get("Content-Length") != strconv.Itoa(rec.Body.Len()) {
		t.Errorf("Content-Length %s for %d bytes", rec.Header().Get("Content-Length"), rec.Body.Len())
	}
	data := rec.Body.Bytes()
	if bytes.Contains(data, []byte("canary-DESK")) || bytes.Contains(data, []byte("Dana Lead")) {
		t.Error("the backup is readable")
	}
	f.noBackupFiles()

	want, err := f.d.open.st.List()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "newpc")
	res, err := cases.Restore(bytes.NewReader(data), cases.RestoreOptions{Dir: dir, Passphrase: passphrase})
	if err != nil || res.Cases != 2 {
		t.Fatalf("restore: %v %+v", err, res)
	}
	m, err := vault.LoadMember(filepath.Join(dir, "member.identity"), passphrase)
	if err != nil {
		t.Fatal(err)
	}
	st, err := cases.Open(dir, m, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.List()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("restored list %v:\n got %+v\nwant %+v", err, got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "teams", "students.txt")); err != nil {
		t.Errorf("the team file did not come back: %v", err)
	}
}

// TestBackupReadBack: the desk checks the file it wrote against what
// Store.Backup said it wrote, says why one does not read back, and leaves
// a good one at its start to be sent.
func TestBackupReadBack(t *testing.T) {
	f := newFixture(t)
	f.report("message", "a report")
	f.open()
	u, release := f.d.acquire()
	file, info, err := f.d.writeBackup(u, passphrase)
	release()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		file.Close()
		os.Remove(file.Name())
	}()
	if err := readBack(file, passphrase, info); err != nil {
		t.Fatalf("a good backup: %v", err)
	}
	if at, err := file.Seek(0, io.SeekCurrent); err != nil || at != 0 {
		t.Errorf("left at %d (%v), not at its start", at, err)
	}
	other := info
	other.Entries = slices.Clone(info.Entries)
	other.Entries[0].Size++
	if err := readBack(file, passphrase, other); err == nil || err.Error() != "the backup did not read back the same as it was written" {
		t.Errorf("other entries: %v", err)
	}
	fi, err := file.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := file.Truncate(fi.Size() / 2); err != nil {
		t.Fatal(err)
	}
	if err := readBack(file, passphrase, info); !errors.Is(err, cases.ErrBackupDamaged) || !strings.HasPrefix(err.Error(), "the backup did not read back: ") {
		t.Errorf("cut short: %v", err)
	}
}

// TestBackupLocked: a locked desk makes no backup and asks to unlock.
func TestBackupLocked(t *testing.T) {
	f := newFixture(t)
	f.report("message", "a report")
	f.open()
	f.d.lock()
	wantBody(t, f.get("/backup"), http.StatusOK, `The desk is locked`)
	rec := f.post("/backup", url.Values{"passphrase": {passphrase}})
	wantBody(t, rec, http.StatusOK, `The desk is locked`, `was not saved`)
	if rec.Header().Get("Content-Disposition") != "" {
		t.Error("a locked desk made a backup")
	}
	f.noBackupFiles()
}

// noBackupFiles fails if the desk left a backup's file in the store folder.
func (f *fixture) noBackupFiles() {
	f.t.Helper()
	entries, err := os.ReadDir(f.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		f.t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), "backup") {
			f.t.Errorf("left in the store folder: %s", e.Name())
		}
	}
}
