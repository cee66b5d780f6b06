package vault

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hearken-project/hearken/internal/boltcheck"
)

// OpenStore opens the store at path, creating it if there is no file. It refuses
// a damaged file, a file of another layout or version, and a file another
// process holds, with a message that says what to do. It never recreates an
// existing file.
func OpenStore(path string, opts *Options) (s *Store, err error) {
	if opts == nil {
		opts = &Options{}
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = time.Second
	}
	fi, statErr := os.Stat(path)
	exists := statErr == nil
	if exists && fi.Size() == 0 {
		return nil, fmt.Errorf("%w: %s is empty; if this is a new installation, remove the empty file and start again", ErrCorrupt, path)
	}
	if !exists && opts.ReadOnly {
		return nil, fmt.Errorf("failed to open store: %s does not exist", path)
	}
	// bbolt can panic on some damaged files; none of its panics carry report
	// data (the file holds only ciphertext), but a panic is not an answer.
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, corruptErr(path, "")
		}
	}()
	db, rep, err := boltcheck.Open(path, boltcheck.Options{Timeout: timeout, ReadOnly: opts.ReadOnly, AcceptRollback: opts.AcceptRollback})
	if !opts.ReadOnly && !errors.Is(err, boltcheck.ErrLocked) {
		// Left by a compaction that never finished; never the store itself.
		os.Remove(path + compactSuffix)
	}
	if err != nil {
		return nil, openErr(path, err)
	}
	s = &Store{db: db, path: path, now: opts.Now, retention: opts.RetentionDays, replies: newReplyPool(), drained: opts.Drained}
	if s.now == nil {
		s.now = time.Now
	}
	if s.retention <= 0 {
		s.retention = 90
	}
	if rep.RolledBack {
		s.notices = append(s.notices, "the store was rolled back to the commit before its newest, whose record was damaged, as --accept-rollback allowed: whatever that last commit wrote is lost. Check the disk, and make a fresh backup")
	}
	if rep.OlderMetaDamaged {
		s.notices = append(s.notices, "the record of the store's next-to-last commit was damaged and has been rewritten; nothing was lost. A disk that damages files may be failing: check it, and keep the backups")
	}
	if err := s.check(path, !exists, opts.ReadOnly); err != nil {
		db.Close()
		return nil, err
	}
	tuneBatch(db)
	return s, nil
}

// tuneBatch sets how concurrent writers share commits. They share one
// commit, and so one fsync. A longer window gathers more of them but keeps
// each waiting longer; 5 ms gave the intake its best tail latency under load
// on 2 cores, and a lone reporter does not notice it.
func tuneBatch(db *bolt.DB) {
	db.MaxBatchDelay = 5 * time.Millisecond
}

// openErr says what is wrong with a store file boltcheck refused.
func openErr(path string, err error) error {
	switch {
	case errors.Is(err, boltcheck.ErrLocked):
		return fmt.Errorf("%w: %s; stop the other intake process first", ErrLocked, path)
	case errors.Is(err, boltcheck.ErrRollback):
		return fmt.Errorf("%w: %s: %w, so opening it would silently undo that commit (perhaps a report whose receipt was shown); it has not been changed", ErrCorrupt, path, ErrRollback)
	case errors.Is(err, boltcheck.ErrTruncated):
		return fmt.Errorf("%w: %s has been cut short (%v), perhaps by a full disk or an interrupted copy; stop, keep the file for inspection, and restore the newest verified backup; it will not be recreated", ErrCorrupt, path, detail(err))
	case errors.Is(err, boltcheck.ErrDamaged):
		return corruptErr(path, detail(err))
	}
	return fmt.Errorf("failed to open store: %w", err)
}

// detail is what boltcheck found, without the words of its sentinel.
func detail(err error) string {
	s := err.Error()
	for _, e := range []error{boltcheck.ErrDamaged, boltcheck.ErrTruncated} {
		s = strings.TrimPrefix(s, e.Error()+": ")
	}
	return s
}

func corruptErr(path, what string) error {
	if what != "" {
		what = " (" + what + ")"
	}
	return fmt.Errorf("%w: %s failed its consistency check%s; stop, keep the file for inspection, and restore the newest verified backup; it will not be recreated", ErrCorrupt, path, what)
}

// check verifies the file's layout, brings a file of an older schema up
// to date (unless readOnly), and lays out a new file. boltcheck has checked
// its pages.
func (s *Store) check(path string, fresh, readOnly bool) error {
	if fresh {
		return s.initialize()
	}
	var v int
	err := s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return fmt.Errorf("%w: %s is not a Hearken store; check --data points at the right folder", ErrSchema, path)
		}
		var err error
		v, err = strconv.Atoi(string(meta.Get(keySchema)))
		switch {
		case err != nil || v < 1:
			return fmt.Errorf("%w: %s has no readable schema version; restore a verified backup", ErrSchema, path)
		case v > SchemaVersion:
			return fmt.Errorf("%w: %s was written by a newer Hearken (schema %d, this one reads %d); run the newer version, do not delete the file", ErrSchema, path, v, SchemaVersion)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if v < SchemaVersion {
		if readOnly {
			// Enough to copy and verify it (backups); serving it needs
			// the new layout, which the first writable open makes.
			s.old = true
			s.notices = append(s.notices, fmt.Sprintf("the store has the layout of an older Hearken (schema %d); intake brings it up to date the next time it opens it to serve", v))
			return s.db.View(func(tx *bolt.Tx) error { return s.loadKeys(tx, path, false) })
		}
		if err := s.migrate(v); err != nil {
			return fmt.Errorf("failed to bring %s up to date from schema %d: %w; it has not been changed", path, v, err)
		}
	}
	return s.db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketThreads, bucketLookup, bucketItemIdx, bucketQueues} {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("%w: %s is missing part of its layout; restore a verified backup", ErrSchema, path)
			}
		}
		if err := s.loadKeys(tx, path, true); err != nil {
			return err
		}
		s.loadClock(tx)
		return s.checkQueue(tx)
	})
}

// loadKeys reads the store's lookup key and, with cursor, its cursor key.
func (s *Store) loadKeys(tx *bolt.Tx, path string, cursor bool) error {
	meta := tx.Bucket(bucketMeta)
	key := meta.Get(keyLookupKey)
	if len(key) != lookupKey {
		return fmt.Errorf("%w: %s has no lookup key; restore a verified backup", ErrSchema, path)
	}
	s.lookupKey = newSecret(bytes.Clone(key))
	if !cursor {
		return nil
	}
	key = meta.Get(keyCursorKey)
	if len(key) != cursorKeySize {
		return fmt.Errorf("%w: %s has no cursor key; restore a verified backup", ErrSchema, path)
	}
	s.cursorKey = newSecret(bytes.Clone(key))
	return nil
}

func (s *Store) initialize() error {
	key := make([]byte, lookupKey)
	ckey := make([]byte, cursorKeySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("failed to read randomness: %w", err)
	}
	if _, err := rand.Read(ckey); err != nil {
		return fmt.Errorf("failed to read randomness: %w", err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
			return err
		}
		if err := meta.Put(keyLookupKey, key); err != nil {
			return err
		}
		if err := meta.Put(keyCursorKey, ckey); err != nil {
			return err
		}
		if err := meta.Put(keyClockDay, []byte(s.today())); err != nil {
			return err
		}
		for _, b := range [][]byte{bucketThreads, bucketLookup, bucketItemIdx, bucketQueues} {
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("failed to lay out new store: %w", err)
	}
	s.lookupKey, s.cursorKey = newSecret(key), newSecret(ckey)
	return nil
}

// Notices says what OpenStore found wrong with the file and put right, or
// what an operator should see to, in words for the log. A sound store has
// none.
func (s *Store) Notices() []string { return s.notices }
