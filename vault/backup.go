package vault

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
)

// compactSuffix names the copy Compact writes beside the store.
const compactSuffix = ".compact"

// compactTxSize bounds each write transaction while copying a store, so a
// large store is copied without holding it all in memory.
const compactTxSize = 64 << 20

// BackupFile writes a consistent copy of the live store to path without
// stopping it, then verifies the copy. The copy is made key by key from one
// read transaction (bbolt's Compact), not page by page, so it carries no
// free pages: nothing deleted or purged survives into a backup, and its
// layout follows random ids, not arrival order. It holds what the store
// holds: ciphertext, wrapped reply secrets and the lookup key (without which
// receipts no longer find their threads). path is created O_EXCL, mode 0600.
func (s *Store) BackupFile(path string) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := copyStore(s.db, path); err != nil {
		return 0, err
	}
	if err := VerifyBackup(path); err != nil {
		return 0, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// copyStore copies src's live data into a new file at path.
func copyStore(src *bolt.DB, path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("failed to create copy: %w", err)
	}
	f.Close()
	dst, err := bolt.Open(path, 0o600, nil)
	if err == nil {
		err = compactInto(dst, src)
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("failed to copy store: %w", err)
	}
	return nil
}

// compactInto copies src into dst key by key. OpenStore checked every page
// of src, but a disk can fail later: a fault while reading becomes an
// error (SetPanicOnFault), not the end of the server.
func compactInto(dst, src *bolt.DB) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: a page could not be read", ErrCorrupt)
		}
	}()
	return bolt.Compact(dst, src, compactTxSize)
}

// Compact rewrites the live store file with only its live data and swaps it
// in. bbolt never overwrites freed pages, so until this runs, deleted
// threads and purged items linger in the file; and its page order follows
// arrival order, which this replaces with the order of random ids. Other
// operations wait while it runs.
func (s *Store) Compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tmp := s.path + compactSuffix
	os.Remove(tmp) // left by a crash during an earlier run; never the store itself
	if err := copyStore(s.db, tmp); err != nil {
		return err
	}
	if err := VerifyBackup(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("failed to close store for compaction: %w", err)
	}
	// rename is atomic: after a crash the store is either the old file or
	// the whole new one.
	if err := os.Rename(tmp, s.path); err != nil {
		return s.reopen(fmt.Errorf("failed to swap in compacted store: %w", err))
	}
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		d.Sync()
		d.Close()
	}
	return s.reopen(nil)
}

// reopen opens the store file again after Compact closed it.
func (s *Store) reopen(cause error) error {
	db, err := bolt.Open(s.path, 0o600, &bolt.Options{Timeout: 10 * time.Second})
	if err != nil {
		return fmt.Errorf("failed to reopen store after compaction: %w", errors.Join(cause, err))
	}
	tuneBatch(db)
	s.db = db
	return cause
}

// VerifyBackup opens a backup read-only and checks its consistency and
// layout, so a backup is known good before it is needed.
func VerifyBackup(path string) error {
	s, err := OpenStore(path, &Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("backup did not verify: %w", err)
	}
	return s.Close()
}
