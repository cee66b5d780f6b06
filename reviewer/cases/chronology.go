package cases

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// entry is one line of a case's chronology written on this machine. Entries
// are only ever added: a correction is a new entry that names the old one.
type entry struct {
	N        uint64 `json:"n"`
	Day      string `json:"day"`
	Who      string `json:"who"`
	What     string `json:"what"` // "triage", "note", "correction", "reply", "export"
	Text     string `json:"text"`
	Corrects uint64 `json:"corrects,omitempty"`
	// After is the local order of the newest item when the entry was made,
	// which places it among the case's messages.
	After uint64 `json:"after"`
}

func (s *Store) appendEntry(tx *bolt.Tx, thread string, e entry) (uint64, error) {
	cb := tx.Bucket(bChrono)
	// Entries are numbered per case: one more than the case's last.
	n := uint64(1)
	c := cb.Cursor()
	k, _ := c.Seek(threadKey(thread, ^uint64(0)))
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	if len(k) == len(thread)+8 && string(k[:len(thread)]) == thread {
		n = binary.BigEndian.Uint64(k[len(thread):]) + 1
	}
	e.N, e.Day, e.Who = n, s.today(), s.m.Name
	e.After = tx.Bucket(bItems).Sequence()
	key := threadKey(thread, n)
	sealed, err := s.key.seal(bChrono, key, e)
	if err != nil {
		return 0, err
	}
	return n, cb.Put(key, sealed)
}

// addEntry appends a chronology entry to thread's case.
func (s *Store) addEntry(thread string, e entry) (uint64, error) {
	var n uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bThreads).Get([]byte(thread)) == nil {
			return ErrNoCase
		}
		if e.Corrects != 0 {
			if tx.Bucket(bChrono).Get(threadKey(thread, e.Corrects)) == nil {
				return fmt.Errorf("entry %d is not in this case's chronology", e.Corrects)
			}
		}
		var err error
		n, err = s.appendEntry(tx, thread, e)
		return err
	})
	return n, err
}

// Note adds a note, or a correction of entry corrects, to a case's
// chronology, and returns the new entry's number.
func (s *Store) Note(number uint64, text string, corrects uint64) (uint64, error) {
	text, err := CheckText("note", text)
	if err != nil {
		return 0, err
	}
	thread, err := s.caseThread(number)
	if err != nil {
		return 0, err
	}
	what := "note"
	if corrects != 0 {
		what = "correction"
	}
	return s.addEntry(thread, entry{What: what, Text: text, Corrects: corrects})
}
