package reviewer

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hearken-project/hearken/reviewer/cases"
)

// backup writes an encrypted backup of the member's identity, case store
// and settings (cases.Store.Backup), then reads it back whole to be sure
// it restores.
func (c *cli) backup(fs *flag.FlagSet, args []string) error {
	out := fs.String("out", "", "")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	if *out == "" {
		return errUsage{"backup needs --out FILE, for example --out /media/usb/hearken-backup.age (somewhere that is not this computer)"}
	}
	if _, err := os.Lstat(*out); err == nil {
		return fmt.Errorf("%s already exists; it will not be overwritten: choose another name", *out)
	}
	_, st, err := c.openStore(false)
	if errors.Is(err, cases.ErrStoreLocked) {
		return &hinted{err, "if the desk (reviewer serve) is running, make the backup on its Backup page, or stop it first"}
	}
	if err != nil {
		return err
	}
	defer st.Close()
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s already exists; it will not be overwritten: choose another name", *out)
	}
	if err != nil {
		return fmt.Errorf("failed to create the backup file: %w", err)
	}
	info, err := st.Backup(f, cases.BackupOptions{IdentityFile: c.identityPath(), Passphrase: c.pass})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = c.verifyBackup(*out, info)
	}
	if err != nil {
		os.Remove(*out)
		return fmt.Errorf("%w; no backup was written", err)
	}
	var size int64
	for _, e := range info.Entries {
		size += e.Size
	}
	fmt.Fprintf(c.stdout, "Wrote %s: %s, your identity and %s (%s), encrypted with your identity's passphrase.\n",
		clean(*out), count(info.Cases, "case", "cases"), count(len(info.Entries)-2, "other file", "other files"), byteSize(size))
	fmt.Fprintln(c.stdout, "Keep it away from this computer (a USB stick kept locked away, or the school's backup): it is what you need if this computer is lost. It opens only with your passphrase.")
	fmt.Fprintln(c.stdout, "To restore it on a new computer: reviewer restore --from FILE, then reviewer sync --again.")
	if abs, err := filepath.Abs(*out); err == nil {
		if store, err := filepath.Abs(c.store); err == nil && strings.HasPrefix(abs, store+string(filepath.Separator)) {
			fmt.Fprintln(c.stderr, "Warning: this backup is inside the store folder, on this computer; copy it somewhere else.")
		}
	}
	return nil
}

// verifyBackup reads the backup at path back and checks that it holds
// exactly what was written.
func (c *cli) verifyBackup(path string, wrote cases.BackupInfo) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("failed to read the backup back: %w", err)
	}
	defer f.Close()
	return cases.VerifyBackup(f, c.pass, wrote)
}

// restore puts a backup's identity, case store and settings in place.
func (c *cli) restore(fs *flag.FlagSet, args []string) error {
	from := fs.String("from", "", "")
	replace := fs.Bool("replace", false, "")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	if *from == "" {
		return errUsage{"restore needs --from FILE, the file reviewer backup wrote"}
	}
	if p, ok := cases.RestoreConflict(c.store); ok && !*replace {
		return &hinted{fmt.Errorf("%w (%s); nothing was changed", cases.ErrRestoreExists, p),
			"restore replaces a case store only when asked: add --replace (the store there now is kept as cases.db.before-restore), or restore into another --store folder"}
	}
	f, err := os.Open(*from)
	if err != nil {
		return fmt.Errorf("failed to open the backup: %w", err)
	}
	defer f.Close()
	p, err := c.passphrase("Passphrase of the backup (your identity's passphrase when it was made): ", false)
	if err != nil {
		return err
	}
	res, err := cases.Restore(f, cases.RestoreOptions{Dir: c.store, IdentityFile: c.identity, Passphrase: p, Replace: *replace})
	switch {
	case errors.Is(err, cases.ErrBackupPassphrase):
		return &hinted{fmt.Errorf("%w; nothing was changed", err),
			"it is the passphrase your identity had when the backup was made (passphrases are case-sensitive)"}
	case errors.Is(err, cases.ErrBackupDamaged):
		return &hinted{fmt.Errorf("%s: %w; nothing was changed", *from, err), "use another copy of your backup"}
	case errors.Is(err, cases.ErrRestoreExists):
		return &hinted{fmt.Errorf("%w; nothing was changed", err),
			"add --replace to replace them (each is kept as NAME.before-restore), or restore into another --store folder"}
	case err != nil:
		return fmt.Errorf("%w; nothing was changed", err)
	}
	fmt.Fprintf(c.stdout, "Restored the backup of %s for %s: %s, the identity and %s, in %s.\n",
		res.Day, clean(res.Name), count(res.Cases, "case", "cases"), count(len(res.Entries)-2, "other file", "other files"), clean(c.store))
	for _, p := range res.KeptAside {
		fmt.Fprintf(c.stdout, "Kept what was there before as %s; delete it once you are sure you need nothing from it.\n", clean(p))
	}
	fmt.Fprintf(c.stdout, "Your cases are as they were on %s. Now run reviewer sync --again: the server sends every item it still holds for you, so what arrived since the backup comes back too (items it has deleted cannot).\n", res.Day)
	return nil
}

// byteSize writes n bytes for a person.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d kB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
