package vault

import (
	"errors"
	"fmt"
	"io"
	"os"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the live store to w without stopping
// it. The copy holds what the store holds: ciphertext, wrapped reply secrets
// and the lookup key (without which receipts no longer find their threads).
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("failed to write backup: %w", err)
	}
	return n, nil
}

// BackupFile writes a backup to path, created with O_EXCL and mode 0600 and
// synced, then verifies it.
func (s *Store) BackupFile(path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return 0, ErrExists
	}
	if err != nil {
		return 0, fmt.Errorf("failed to create backup file: %w", err)
	}
	n, err := s.Backup(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return 0, err
	}
	if err := VerifyBackup(path); err != nil {
		return n, err
	}
	return n, nil
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
