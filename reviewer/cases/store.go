package cases

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"filippo.io/age"
	bolt "go.etcd.io/bbolt"

	"github.com/hearken-project/hearken/internal/boltcheck"
	"github.com/hearken-project/hearken/vault"
)

// Errors a caller branches on. They say what is wrong and no more: the
// command line (reviewer) adds what to do about it.
var (
	// ErrNoStore means there is no case store in the folder yet.
	ErrNoStore = errors.New("there are no cases on this computer yet")
	// ErrStoreCorrupt means the case store failed its checks.
	ErrStoreCorrupt = errors.New("the local case store is damaged")
	// ErrStoreLocked means another program (another reviewer command) has
	// the store open.
	ErrStoreLocked = errors.New("the local case store is in use")
	// ErrOtherIdentity means the store was made with another member's key.
	ErrOtherIdentity = errors.New("this case store belongs to a different identity")
	// ErrNoCase means a case number is not in the store.
	ErrNoCase = errors.New("there is no such case on this computer")
)

// Store is a member's local case store, open: made by Open, released by
// Close.
type Store struct {
	db   *bolt.DB
	m    *vault.Member
	key  *localKey
	path string
	now  func() time.Time
	// ident opens items: the member's identity, trying first the stanza
	// that opened the last item of its shape.
	ident age.Identity
	myKey string // the member's signing key, formatted
	// pins is the cache of the write transaction storing a page, if one
	// is under way (replykey.go).
	pins atomic.Pointer[pinCache]
}

// storePath returns the case store file in dir.
func storePath(dir string) string { return filepath.Join(dir, storeFile) }

// Open opens the case store in dir for m. With create, a missing store is
// made (sync does this); otherwise a missing store is ErrNoStore. An
// existing file is never recreated: a damaged one is refused
// (ErrStoreCorrupt), one in use is ErrStoreLocked, and one made with another
// member's key is ErrOtherIdentity.
func Open(dir string, m *vault.Member, create bool) (s *Store, err error) {
	path := storePath(dir)
	fi, statErr := os.Stat(path)
	switch {
	case errors.Is(statErr, os.ErrNotExist):
		if !create {
			return nil, ErrNoStore
		}
		if err := createStore(dir, m); err != nil {
			return nil, err
		}
	case statErr != nil:
		return nil, fmt.Errorf("failed to open the case store: %w", statErr)
	case fi.Size() == 0:
		return nil, corruptStore(path, "it is empty")
	}
	defer func() {
		// bbolt may panic on a damaged file.
		if r := recover(); r != nil {
			s, err = nil, corruptStore(path, "")
		}
	}()
	db, err := openFile(path, false)
	if err != nil {
		return nil, err
	}
	s = newStore(db, m, path)
	from, err := s.check()
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := s.migrate(from); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.addBuckets(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.unlock(); err != nil {
		db.Close()
		return nil, err
	}
	if from < schemaShared {
		// Needs the data key: the summaries are written again.
		if err := s.migrateShared(); err != nil {
			db.Close()
			return nil, fmt.Errorf("failed to bring the case store up to date (it has not been changed): %w", err)
		}
	}
	return s, nil
}

// newStore returns the Store of the open file db, for m; check and unlock
// come next.
func newStore(db *bolt.DB, m *vault.Member, path string) *Store {
	return &Store{db: db, m: m, path: path, now: time.Now,
		ident: vault.NewHintedIdentity(m.Identity()), myKey: vault.FormatSigningKey(m.SigningPublic())}
}

// unlock unwraps the store's data key with the member's identity.
func (s *Store) unlock() error {
	var wrapped []byte
	s.db.View(func(tx *bolt.Tx) error {
		wrapped = bytes.Clone(tx.Bucket(bMeta).Get(kDataKey))
		return nil
	})
	k, err := unwrapDataKey(wrapped, s.m)
	if err != nil {
		return corruptStore(s.path, "")
	}
	s.key = k
	return nil
}

// openFile opens the store file through boltcheck, which checks it whole
// before bbolt maps it: a cut-short file or damaged pages would otherwise
// crash the reviewer, and a damaged record of the newest commit would
// silently undo that commit.
func openFile(path string, readOnly bool) (*bolt.DB, error) {
	db, _, err := boltcheck.Open(path, boltcheck.Options{Timeout: time.Second, ReadOnly: readOnly})
	switch {
	case errors.Is(err, boltcheck.ErrLocked):
		return nil, ErrStoreLocked
	case errors.Is(err, boltcheck.ErrRollback):
		return nil, corruptStore(path, "the record of its newest change is damaged: opening it would silently undo that change")
	case errors.Is(err, boltcheck.ErrTruncated):
		return nil, corruptStore(path, "it has been cut short")
	case errors.Is(err, boltcheck.ErrDamaged):
		return nil, corruptStore(path, "")
	case err != nil:
		return nil, fmt.Errorf("failed to open the case store: %w", err)
	}
	return db, nil
}

func corruptStore(path, what string) error {
	if what != "" {
		what = ": " + what
	}
	return fmt.Errorf("%w (%s)%s. It has not been changed. Do not delete it: restore it from your backup, or ask for help; reviewer will not recreate it", ErrStoreCorrupt, path, what)
}

// createStore lays out a new store under a temporary name and renames it in
// place, so a half-made store never sits under the real name.
func createStore(dir string, m *vault.Member) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("failed to create store folder: %w", err)
	}
	tmp := storePath(dir) + ".new"
	os.Remove(tmp)
	wrapped, err := newDataKey(m)
	if err != nil {
		return fmt.Errorf("failed to create the case store: %w", err)
	}
	db, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("failed to create the case store: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bMeta)
		if err := meta.Put(kSchema, []byte(strconv.Itoa(storeSchema))); err != nil {
			return err
		}
		if err := meta.Put(kDataKey, wrapped); err != nil {
			return err
		}
		return meta.Put(kOwner, []byte(vault.FormatSigningKey(m.SigningPublic())))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("failed to create the case store: %w", err)
	}
	if err := os.Rename(tmp, storePath(dir)); err != nil {
		return fmt.Errorf("failed to create the case store: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// check checks the store's layout and owner, and returns its schema: this
// version's, or one migrate and migrateShared bring up to date.
func (s *Store) check() (int, error) {
	// boltcheck has checked the pages.
	var v int
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, b := range baseBuckets {
			if tx.Bucket(b) == nil {
				return corruptStore(s.path, "")
			}
		}
		meta := tx.Bucket(bMeta)
		var err error
		if v, err = strconv.Atoi(string(meta.Get(kSchema))); err != nil || v < oldestSchema || v > storeSchema {
			return fmt.Errorf("%w (%s): it was written by another version of reviewer; it has not been changed", ErrStoreCorrupt, s.path)
		}
		if !bytes.Equal(meta.Get(kOwner), []byte(s.myKey)) {
			return ErrOtherIdentity
		}
		return nil
	})
	return v, err
}

// addBuckets makes the buckets a store made by an earlier reviewer lacks.
func (s *Store) addBuckets() error {
	missing := false
	s.db.View(func(tx *bolt.Tx) error {
		for _, b := range addedBuckets {
			missing = missing || tx.Bucket(b) == nil
		}
		return nil
	})
	if !missing {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range addedBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("failed to update the case store: %w", err)
	}
	return nil
}

// Close closes the store.
func (s *Store) Close() error {
	s.key = nil
	return s.db.Close()
}

func (s *Store) today() string { return vault.Today(s.now()) }
