package cases

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/hearken-project/hearken/vault"
)

// RestoreOptions say where a backup is restored.
type RestoreOptions struct {
	// Dir is the store folder.
	Dir string
	// IdentityFile is where the identity goes ("": Dir/member.identity);
	// member.pub goes beside it.
	IdentityFile string
	// Passphrase opens the backup and the identity in it.
	Passphrase string
	// Replace allows replacing a case store, identity or other file that
	// differs from the backup's. Each one replaced is kept beside itself
	// as NAME.before-restore.
	Replace bool
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	BackupInfo
	Name      string   // the member's name, from the identity
	Written   []string // files put in place
	Unchanged []string // files that were already the backup's
	KeptAside []string // files replaced, kept as NAME.before-restore
}

// asideSuffix names a file a restore replaced.
const asideSuffix = ".before-restore"

// RestoreConflict says whether restoring into dir would replace a case
// store, so a caller can refuse before asking for a passphrase. It returns
// the store's path if there is one.
func RestoreConflict(dir string) (string, bool) {
	_, err := os.Lstat(storePath(dir))
	return storePath(dir), !errors.Is(err, fs.ErrNotExist)
}

// Restore restores a backup made by Backup. The whole backup is decrypted,
// checked and written beside its destinations under temporary names first
// (the store's copy is opened and checked with the identity from the same
// backup); only when all of it is good are the files renamed into place,
// each rename atomic, after the files and folders are synced. A wrong
// passphrase, a damaged, changed or cut-short backup, or a failure before
// the renames leaves every file as it was, and removes what the restore
// had made. A rename that fails (or a restore cut off among them) leaves
// the files renamed so far in place, each whole, beside their
// NAME.before-restore; running the restore again with o.Replace completes
// it.
//
// An existing case store is replaced only with o.Replace; so is any other
// file that differs from the backup's (a file the same as the backup's is
// left alone). What is replaced is kept as NAME.before-restore; a store in
// use by another reviewer command is never replaced.
func Restore(r io.Reader, o RestoreOptions) (res RestoreResult, err error) {
	if o.IdentityFile == "" {
		o.IdentityFile = filepath.Join(o.Dir, identityEntry)
	}
	if p, ok := RestoreConflict(o.Dir); ok && !o.Replace {
		return res, fmt.Errorf("%w: %s", ErrRestoreExists, p)
	}
	plain, err := openBackup(r, o.Passphrase)
	if err != nil {
		return res, err
	}
	st := &staging{o: o}
	defer func() {
		if err != nil {
			st.discard()
		}
	}()
	day, err := readArchive(plain, st.put)
	if err != nil {
		return res, err
	}
	res.Day = day
	m, err := vault.LoadMember(st.file(identityEntry).tmp, o.Passphrase)
	if err != nil {
		return res, damaged("the identity in it does not open with the passphrase that opened it")
	}
	res.Name = m.Name
	if res.Cases, err = checkRestoredStore(st.file(storeFile).tmp, m); err != nil {
		return res, err
	}
	for _, f := range st.files {
		res.Entries = append(res.Entries, BackupEntry{Name: f.name, Size: f.size, SHA256: f.sum})
	}
	if err := st.commit(&res); err != nil {
		return res, err
	}
	return res, nil
}

// staging holds a restore's files under temporary names beside their
// destinations until they are renamed into place.
type staging struct {
	o     RestoreOptions
	files []*stagedFile
	dirs  []string // folders the restore made, to remove on failure
}

type stagedFile struct {
	name      string // in the backup
	dst, tmp  string
	size      int64
	sum       [32]byte
	same      bool // dst is already this file
	keepAside bool // dst differs and is kept as dst+asideSuffix
}

func (st *staging) file(name string) *stagedFile {
	for _, f := range st.files {
		if f.name == name {
			return f
		}
	}
	return nil
}

// dst returns where the backup's file name goes.
func (st *staging) dst(name string) string {
	switch name {
	case identityEntry:
		return st.o.IdentityFile
	case pubEntry:
		return filepath.Join(filepath.Dir(st.o.IdentityFile), pubEntry)
	}
	return filepath.Join(st.o.Dir, filepath.FromSlash(name))
}

// mkdir makes dir and the folders above it that are missing, mode 0700,
// and remembers each it made.
func (st *staging) mkdir(dir string) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		missing = append(missing, d)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("failed to create a folder: %w", err)
		}
		st.dirs = append(st.dirs, missing[i])
	}
	return nil
}

// put writes one file of the backup beside its destination: a new file
// (O_EXCL, mode 0600) under a random temporary name, synced.
func (st *staging) put(name string, size int64, r io.Reader) error {
	dst := st.dst(name)
	if err := st.mkdir(filepath.Dir(dst)); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".restore-*")
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", dst, err)
	}
	f := &stagedFile{name: name, dst: dst, tmp: tmp.Name(), size: size}
	st.files = append(st.files, f)
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r)
	if err == nil && n != size {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	h.Sum(f.sum[:0])
	return err
}

// discard removes the temporary files and the folders the restore made.
func (st *staging) discard() {
	for _, f := range st.files {
		os.Remove(f.tmp)
	}
	for i := len(st.dirs) - 1; i >= 0; i-- {
		os.Remove(st.dirs[i]) // only if empty: never anything of the member's
	}
}

// commit decides for each file whether it is new, the same as what is
// there, or replaces something (with o.Replace only), then renames them
// into place: the files of the store folder first, the store, then the
// identity.
func (st *staging) commit(res *RestoreResult) error {
	order := map[string]int{storeFile: 1, identityEntry: 2}
	sort.SliceStable(st.files, func(i, j int) bool { return order[st.files[i].name] < order[st.files[j].name] })
	var conflicts []string
	for _, f := range st.files {
		fi, err := os.Lstat(f.dst)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return fmt.Errorf("failed to look at %s: %w", f.dst, err)
		case f.name != storeFile && fi.Mode().IsRegular() && sameFile(f.dst, f.size, f.sum):
			f.same = true
			continue
		case !st.o.Replace:
			conflicts = append(conflicts, f.dst)
			continue
		}
		f.keepAside = true
		if _, err := os.Lstat(f.dst + asideSuffix); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s is in the way (left by an earlier restore?); move it elsewhere and try again; nothing was changed", f.dst+asideSuffix)
		}
	}
	if len(conflicts) > 0 {
		return fmt.Errorf("%w: %s", ErrRestoreExists, strings.Join(conflicts, ", "))
	}
	if f := st.file(storeFile); f.keepAside {
		// Never replace a store another reviewer command has open: it
		// would go on writing to a file no longer there. (The lock is
		// let go at once: Windows renames nothing over an open file.)
		db, err := bolt.Open(f.dst, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if errors.Is(err, bolterrors.ErrTimeout) {
			return ErrStoreLocked
		}
		if err == nil {
			db.Close()
		}
	}
	for _, f := range st.files {
		switch {
		case f.same:
			os.Remove(f.tmp)
			res.Unchanged = append(res.Unchanged, f.dst)
			continue
		case f.keepAside:
			if err := keepAside(f.dst); err != nil {
				return err
			}
			res.KeptAside = append(res.KeptAside, f.dst+asideSuffix)
		}
		if err := os.Rename(f.tmp, f.dst); err != nil {
			return fmt.Errorf("failed to put %s in place: %w", f.dst, err)
		}
		res.Written = append(res.Written, f.dst)
	}
	synced := map[string]bool{}
	for _, f := range st.files {
		if d := filepath.Dir(f.dst); !synced[d] {
			synced[d] = true
			syncDir(d)
		}
	}
	return nil
}

// keepAside keeps the file at path as path+asideSuffix: a second name for
// it where the file system allows, so that path is never missing, and
// otherwise by renaming it.
func keepAside(path string) error {
	err := os.Link(path, path+asideSuffix)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		err = os.Rename(path, path+asideSuffix)
	}
	if err != nil {
		return fmt.Errorf("failed to keep %s aside: %w", path, err)
	}
	return nil
}

// sameFile reports whether the file at path has the given size and hash.
func sameFile(path string, size int64, sum [32]byte) bool {
	if size > maxSmallEntry {
		return false
	}
	data, err := readSmall(path)
	if err != nil || int64(len(data)) != size {
		return false
	}
	got := sha256.Sum256(data)
	return bytes.Equal(got[:], sum[:])
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// checkRestoredStore opens the store's copy read-only and checks it as
// Open would (pages, layout, owner, data key), and counts its cases.
func checkRestoredStore(path string, m *vault.Member) (int, error) {
	db, err := openFile(path, true)
	if err != nil {
		return 0, damaged("its case store is damaged")
	}
	defer db.Close()
	s := newStore(db, m, path)
	if _, err := s.check(); errors.Is(err, ErrOtherIdentity) {
		return 0, damaged("its case store belongs to another identity than the one in it")
	} else if err != nil {
		return 0, damaged("its case store was written by a newer version of reviewer, or is damaged")
	}
	if err := s.unlock(); err != nil {
		return 0, damaged("its case store does not open with the identity in it")
	}
	n := 0
	err = db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bThreads).Stats().KeyN
		return nil
	})
	return n, err
}
