package desk

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
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
