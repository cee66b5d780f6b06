package cases

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"filippo.io/age"
	bolt "go.etcd.io/bbolt"

	"github.com/hearken-project/hearken/internal/workfactor"
	"github.com/hearken-project/hearken/vault"
)

// A backup is what a member needs on a new computer after the old one is
// lost: their identity file, the case store and the store folder's
// settings, team files and guidance texts. It is one age file, encrypted
// with an age scrypt passphrase recipient under the passphrase of the
// member's identity, holding a tar archive (archive/tar) of those files:
//
//	hearken-backup.txt   first: what this is, its version and its day
//	member.identity      as it is on disk (itself sealed with the passphrase)
//	member.pub           the member's public line, if there is one
//	config.toml          server, proxy and Tor settings, if any
//	team.txt, teams/ROUTE.txt, guidance/LANG/NAME.txt
//	cases.db             last: a consistent copy of the store (bbolt's Tx.WriteTo)
//
// Nothing is invented: `age -d BACKUP | tar -t` lists it with the standard
// tools, and a member can open it by hand with their passphrase. Nothing of
// it touches the disk unencrypted: the store's copy streams from its read
// transaction through tar and age into the file. age authenticates every
// 64 KiB chunk and the end of the stream, so a tampered or truncated
// backup, and a wrong passphrase, are refused before anything is restored.

// Errors a caller branches on.
var (
	// ErrBackupPassphrase means the passphrase does not open the backup.
	ErrBackupPassphrase = errors.New("this passphrase does not open the backup")
	// ErrBackupDamaged means the file is not a Hearken backup, or it was
	// cut short or changed after it was made.
	ErrBackupDamaged = errors.New("the backup cannot be used")
	// ErrRestoreExists means a case store, or another file that differs
	// from the backup's, is where a restore would put its own.
	ErrRestoreExists = errors.New("the folder already has files the backup would replace")
)

const (
	backupMarker  = "hearken-backup.txt"
	backupVersion = "1"
	backupTitle   = "Hearken reviewer backup"
	identityEntry = "member.identity"
	pubEntry      = "member.pub"
	// maxSmallEntry bounds every file of a backup but the store.
	maxSmallEntry = 1 << 20
	// maxBackupEntries bounds how many files a backup may hold.
	maxBackupEntries = 4096
	// guidanceDir holds the school's guidance texts for the desk.
	guidanceDir = "guidance"
	// maxStoreEntry bounds the store's copy (a guard against a header
	// that claims more than any disk holds, not a real limit).
	maxStoreEntry = 1 << 40
)

// BackupEntry is one file of a backup.
type BackupEntry struct {
	Name   string
	Size   int64
	SHA256 [32]byte
}

// BackupInfo says what a backup holds.
type BackupInfo struct {
	Day     string // the calendar day it was made
	Cases   int    // cases in its store
	Entries []BackupEntry
}

// BackupOptions say what Backup reads besides the open store.
type BackupOptions struct {
	// IdentityFile is the member's identity file; Passphrase opens it,
	// and the backup is sealed under it too.
	IdentityFile string
	Passphrase   string
}

// Backup writes an encrypted backup of the store, the member's identity
// file and the store folder's settings, team and guidance files to w (see
// above). The identity file must be the store owner's and open with the
// passphrase. The store stays open and usable; its copy is one read
// transaction, consistent as of the moment it began.
func (s *Store) Backup(w io.Writer, o BackupOptions) (BackupInfo, error) {
	info := BackupInfo{Day: s.today()}
	idData, err := readSmall(o.IdentityFile)
	if err != nil {
		return info, fmt.Errorf("failed to read the identity file: %w", err)
	}
	m, err := vault.OpenMember(idData, o.Passphrase)
	if err != nil {
		return info, err
	}
	if !bytes.Equal(m.SigningPublic(), s.m.SigningPublic()) || m.Recipient().String() != s.m.Recipient().String() {
		return info, ErrOtherIdentity
	}
	small, err := folderFiles(filepath.Dir(s.path), filepath.Dir(o.IdentityFile))
	if err != nil {
		return info, err
	}
	rcpt, err := age.NewScryptRecipient(o.Passphrase)
	if err != nil {
		return info, errors.New("failed to use the passphrase for the backup")
	}
	rcpt.SetWorkFactor(workfactor.Scrypt())
	aw, err := age.Encrypt(w, rcpt)
	if err != nil {
		return info, fmt.Errorf("failed to write the backup: %w", err)
	}
	tw := tar.NewWriter(aw)
	// The archive's times say the day, as the rest of the backup does.
	day, _ := time.Parse(time.DateOnly, info.Day)
	put := func(name string, size int64, write func(io.Writer) error) error {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600, ModTime: day}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		h := sha256.New()
		if err := write(io.MultiWriter(tw, h)); err != nil {
			return err
		}
		e := BackupEntry{Name: name, Size: size}
		h.Sum(e.SHA256[:0])
		info.Entries = append(info.Entries, e)
		return nil
	}
	putBytes := func(name string, data []byte) error {
		return put(name, int64(len(data)), func(w io.Writer) error { _, err := w.Write(data); return err })
	}
	err = putBytes(backupMarker, markerText(info.Day))
	info.Entries = nil // the marker says what the backup is; it is not one of its files
	if err == nil {
		err = putBytes(identityEntry, idData)
	}
	for _, f := range small {
		if err == nil {
			err = putBytes(f.name, f.data)
		}
	}
	if err == nil {
		err = s.db.View(func(tx *bolt.Tx) error {
			info.Cases = tx.Bucket(bThreads).Stats().KeyN
			return put(storeFile, tx.Size(), func(w io.Writer) error {
				n, err := tx.WriteTo(w)
				if err == nil && n != tx.Size() {
					err = fmt.Errorf("the store's copy is %d bytes, not %d", n, tx.Size())
				}
				return err
			})
		})
	}
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = aw.Close()
	}
	if err != nil {
		return info, fmt.Errorf("failed to write the backup: %w", err)
	}
	return info, nil
}

// markerText is the first file of a backup: a note for whoever finds the
// archive, and its version and day for ReadBackup.
func markerText(day string) []byte {
	return []byte(backupTitle + "\n" +
		"version: " + backupVersion + "\n" +
		"day: " + day + "\n" +
		"Restore it with: reviewer restore --from THIS-BACKUP, then reviewer sync --again.\n" +
		"member.identity is still sealed with its passphrase; cases.db holds the cases as the\n" +
		"reviewer keeps them, sealed to the team and to the member.\n")
}

type smallFile struct {
	name string
	data []byte
}

// folderFiles reads the files of the store folder dir (and member.pub
// beside the identity file, in idDir) that a backup carries, in a stable
// order. Anything else in the folder (exports, files kept aside) is left
// out; so is any file that is not a regular file.
func folderFiles(dir, idDir string) ([]smallFile, error) {
	var out []smallFile
	add := func(name, path string) error {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.Mode().IsRegular()) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("failed to read %s: %w", path, err)
		}
		data, err := readSmall(path)
		if err != nil {
			return fmt.Errorf("failed to read %s: %w", path, err)
		}
		out = append(out, smallFile{name, data})
		return nil
	}
	if err := add(pubEntry, filepath.Join(idDir, pubEntry)); err != nil {
		return nil, err
	}
	for _, name := range []string{configFile, teamFile} {
		if err := add(name, filepath.Join(dir, name)); err != nil {
			return nil, err
		}
	}
	var names []string
	for _, pattern := range []string{teamsDir + "/*.txt", guidanceDir + "/*/*.txt"} {
		found, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pattern)))
		if err != nil {
			return nil, err
		}
		for _, p := range found {
			rel, err := filepath.Rel(dir, p)
			if err == nil && validEntryName(filepath.ToSlash(rel)) {
				names = append(names, filepath.ToSlash(rel))
			}
		}
	}
	sort.Strings(names)
	for _, name := range names {
		if err := add(name, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readSmall reads a file of at most maxSmallEntry bytes.
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSmallEntry+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSmallEntry {
		return nil, errors.New("it is larger than a backup takes (1 MiB)")
	}
	return data, nil
}
