package desk

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

// The backup page makes the same backup as reviewer backup
// (cases.Store.Backup) and hands it to the browser as a download: the
// reviewer's command needs the store, which the desk holds while it runs.
// The passphrase is asked again, as for the command: it opens the identity
// that goes into the backup, and the backup is encrypted with it. So
// someone at an unlocked desk cannot carry everything away.
//
// The backup is written to a file in the store folder first (encrypted,
// O_EXCL, mode 0600, never under a name a lead would take for a backup),
// read back whole, and only then sent, with its length, so that a browser
// never saves half of one without saying so; the file is removed after.

type backupView struct {
	Error string
}

func (d *Desk) backupPage(w http.ResponseWriter, r *http.Request) {
	v := d.page(r, "Backup", "backup")
	if v.Locked {
		d.showUnlock(w, r, "/backup", false)
		return
	}
	v.Body = backupView{}
	d.pages.render(w, http.StatusOK, "backup", v)
}

func (d *Desk) makeBackup(w http.ResponseWriter, r *http.Request) {
	u, release := d.acquire()
	if u == nil {
		d.showUnlock(w, r, "/backup", true)
		return
	}
	if u.st == nil {
		release()
		d.failure(w, r, http.StatusConflict, "Nothing to back up yet", "There are no cases on this computer yet. Once the desk has synced, come back here.")
		return
	}
	passphrase := r.PostForm.Get("passphrase")
	f, info, err := d.writeBackup(u, passphrase)
	// The read-back needs only the file: the desk may lock meanwhile.
	release()
	if err == nil {
		defer func() {
			f.Close()
			os.Remove(f.Name())
		}()
		err = readBack(f, passphrase, info)
	}
	if err != nil {
		code, msg := http.StatusInternalServerError, "No backup was made: "+err.Error()
		if errors.Is(err, vault.ErrWrongPassphrase) {
			code, msg = http.StatusUnauthorized, "That passphrase does not open your identity, so no backup was made. Passphrases are case-sensitive; try again."
		}
		v := d.page(r, "Backup", "backup")
		v.Body = backupView{Error: msg}
		d.pages.render(w, code, "backup", v)
		return
	}
	fi, err := f.Stat()
	if err != nil {
		d.failure(w, r, http.StatusInternalServerError, "No backup was made", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="hearken-backup-`+info.Day+`.age"`)
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	io.Copy(w, f)
}

// writeBackup writes a backup of u's store to a new file in the store
// folder; the file is returned open. The caller holds the desk's state.
func (d *Desk) writeBackup(u *unlocked, passphrase string) (_ *os.File, _ cases.BackupInfo, err error) {
	f, err := os.CreateTemp(d.opts.Store, ".desk-backup-*.tmp")
	if err != nil {
		return nil, cases.BackupInfo{}, fmt.Errorf("failed to write it: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	info, err := u.st.Backup(f, cases.BackupOptions{IdentityFile: d.opts.Identity, Passphrase: passphrase})
	if err != nil {
		return nil, info, err
	}
	if err := f.Sync(); err != nil {
		return nil, info, err
	}
	return f, info, nil
}

// readBack reads the backup in f back whole (cases.VerifyBackup) and
// leaves f at its start, to be sent.
func readBack(f *os.File, passphrase string, wrote cases.BackupInfo) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := cases.VerifyBackup(f, passphrase, wrote); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}
