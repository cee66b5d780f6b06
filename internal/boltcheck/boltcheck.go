// Package boltcheck checks a bbolt file before bbolt is trusted with it.
//
// bbolt trusts its file. It follows page numbers and offsets read from disk
// straight into its memory map, so one flipped bit can make it read past
// the end of a truncated file (SIGBUS), outside the map (SIGSEGV) or round
// a cycle until memory runs out; recover() catches none of these, and
// bbolt's own consistency check follows the same pointers. And when the
// newer of its two meta pages is damaged it silently opens the commit
// before, losing the last one.
//
// Open therefore checks the file first with plain reads: both meta pages,
// the file's size against the high-water mark the meta page records, and
// every page reachable from it, each page number and offset validated
// before it is followed. Only then does bbolt map the file and run its own
// check (key order, free pages). A file that fails is not written to.
//
// Both of Hearken's stores use it: the intake server's and the reviewer's.
package boltcheck

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

var (
	// ErrLocked means another process has the file open for writing.
	ErrLocked = errors.New("the file is in use by another process")
	// ErrDamaged means the file's pages are damaged, or it is not a bbolt
	// file at all.
	ErrDamaged = errors.New("the file is damaged")
	// ErrTruncated means the file is shorter than its last commit needs.
	ErrTruncated = errors.New("the file has been cut short")
	// ErrRollback means the record of the file's newest commit is
	// damaged: opening it would silently undo that commit.
	ErrRollback = errors.New("the record of the newest commit is damaged")
)

// Options say how to open a file.
type Options struct {
	// ReadOnly opens the file for reading only, sharing it with other readers.
	ReadOnly bool
	// Timeout is how long to wait for another process's lock.
	Timeout time.Duration
	// AcceptRollback opens a file whose newest commit record is damaged at
	// the commit before it, instead of refusing with ErrRollback. Opened
	// for writing, the file is then committed once, which rewrites the
	// damaged record.
	AcceptRollback bool
}

// Report says what Open found and repaired in a file it opened.
type Report struct {
	// RolledBack: the newest commit record was damaged and, as
	// AcceptRollback allowed, the file was opened at the commit before it.
	RolledBack bool
	// OlderMetaDamaged: the record of the commit before the newest was
	// damaged. Nothing was lost; opened for writing, it was rewritten.
	OlderMetaDamaged bool
}

// Open checks the bbolt file at path and opens it. A missing file is
// created (unless ReadOnly). An existing file is checked whole before bbolt
// maps it; one that fails is left exactly as it was and the error wraps
// ErrDamaged, ErrTruncated or ErrRollback. ErrLocked means another process
// holds it.
func Open(path string, opts Options) (*bolt.DB, Report, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && !opts.ReadOnly {
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout})
		return db, Report{}, openErr(err)
	}
	// A read-only bbolt open takes the lock (shared: a writer elsewhere
	// makes it wait) and reads nothing but the two meta pages, so it is
	// safe on any file. Holding it, nobody can write while we look.
	ro, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, ReadOnly: true})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, Report{}, ErrLocked
	}
	rep, cerr := checkFile(path, opts.AcceptRollback)
	switch {
	case cerr != nil:
		if ro != nil {
			ro.Close()
		}
		return nil, Report{}, cerr
	case err != nil:
		return nil, Report{}, openErr(err)
	}
	db := ro
	if !opts.ReadOnly {
		ro.Close()
		db, err = openChecked(path, opts)
		if err != nil {
			return nil, Report{}, err
		}
	}
	if err := Consistent(db); err != nil {
		db.Close()
		return nil, Report{}, err
	}
	if !opts.ReadOnly && (rep.RolledBack || rep.OlderMetaDamaged) {
		// Every commit writes its meta record to the slot of the one
		// before, which here is the damaged one.
		if err := db.Update(func(*bolt.Tx) error { return nil }); err != nil {
			db.Close()
			return nil, Report{}, fmt.Errorf("failed to rewrite the damaged commit record: %w", err)
		}
	}
	return db, rep, nil
}

// openChecked opens a file that has passed checkFile. bbolt may still
// panic on damage the checks do not cover; SetPanicOnFault turns a memory
// fault into a panic too, and both become ErrDamaged.
func openChecked(path string, opts Options) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: bbolt could not read it", ErrDamaged)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, ReadOnly: opts.ReadOnly})
	return db, openErr(err)
}

// openErr sorts bbolt's errors from opening a file into ours.
func openErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bolterrors.ErrTimeout):
		return ErrLocked
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum),
		errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrInvalidMapping):
		return fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return fmt.Errorf("failed to open: %w", err)
}

// checkFile checks the meta pages, the size and the page tree of the file
// at path, reading it with plain reads.
func checkFile(path string, acceptRollback bool) (Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return Report{}, fmt.Errorf("failed to open: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Report{}, fmt.Errorf("failed to open: %w", err)
	}
	ms, err := readMetas(f, fi.Size())
	if err != nil {
		return Report{}, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	if ps := int64(ms.use.pageSize); fi.Size() < 2*ps {
		return Report{}, fmt.Errorf("%w: it is %d bytes, less than its two meta pages", ErrTruncated, fi.Size())
	}
	if ms.rolledBack && !acceptRollback {
		return Report{}, fmt.Errorf("%w: opening it would go back to commit %d", ErrRollback, ms.use.txid)
	}
	if need := int64(ms.use.pgid) * int64(ms.use.pageSize); fi.Size() < need {
		return Report{}, fmt.Errorf("%w: it is %d bytes, but its last commit needs %d", ErrTruncated, fi.Size(), need)
	}
	if err := walk(f, ms.use); err != nil {
		return Report{}, err
	}
	return Report{RolledBack: ms.rolledBack, OlderMetaDamaged: ms.olderDamaged}, nil
}

// Consistent runs bbolt's consistency check on db: pages reachable once
// each, free pages not in use, keys in order. Its findings name keys in
// hex; they are left out of the error, which says how many there were.
func Consistent(db *bolt.DB) error {
	return db.View(func(tx *bolt.Tx) error {
		n := 0
		var first error
		for err := range tx.Check(bolt.WithKVStringer(redacted{})) {
			if first == nil {
				first = err
			}
			n++ // read them all: Check's goroutine waits on each
		}
		if n > 0 {
			return fmt.Errorf("%w: bbolt's consistency check found %d problems, the first: %v", ErrDamaged, n, first)
		}
		return nil
	})
}

// redacted keeps keys and values out of bbolt's findings: a key can be a
// lookup hash, and nothing from a store belongs in a log.
type redacted struct{}

func (redacted) KeyToString([]byte) string   { return "…" }
func (redacted) ValueToString([]byte) string { return "…" }
