package cases

import (
	"bytes"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// threadTag is the short form of a thread id that earlier versions showed
// beside each case: its first 8 hex digits. Case numbers are shared now;
// the tag stays in --json for scripts that used it.
func threadTag(thread string) string {
	t := strings.ReplaceAll(thread, "-", "")
	if len(t) > 8 {
		t = t[:8]
	}
	return t
}

// caseFor returns the case of thread, creating it if new: its number comes
// from the thread id, or from the id's next bits when another case
// already has that number.
func caseFor(tx *bolt.Tx, thread, route, day string) (caseRec, bool, error) {
	threads := tx.Bucket(bThreads)
	var c caseRec
	if threads.Get([]byte(thread)) != nil {
		err := getJSON(threads, []byte(thread), &c)
		return c, false, err
	}
	c = caseRec{Thread: thread, Route: route, First: day}
	if err := numberCase(tx, &c); err != nil {
		return c, false, err
	}
	return c, true, putJSON(threads, []byte(thread), c)
}

// numberCase gives c its number and records it.
func numberCase(tx *bolt.Tx, c *caseRec) error {
	nums := tx.Bucket(bCaseNums)
	n, err := numberOf(c.Thread, false)
	if err != nil {
		return err
	}
	if nums.Get(be(n)) != nil {
		c.Collided = CaseNumber(n)
		if n, err = numberOf(c.Thread, true); err != nil {
			return err
		}
		for nums.Get(be(n)) != nil {
			n = (n + 1) % (1 << numberBits)
		}
	}
	c.Number = n
	return nums.Put(be(n), []byte(c.Thread))
}

// rawCase is a case as stored: clear metadata and sealed records.
type rawCase struct {
	caseRec
	Items  []itemMeta
	Sealed map[string][]byte // item id -> sealed, only for items loaded
	Aside  map[string]string
	Triage []byte
	Chrono []sealedRec
}

// sealedRec is a local record with the key it was sealed under.
type sealedRec struct{ key, sealed []byte }

// loadCase reads one case; full also loads every item and the chronology.
func loadCase(tx *bolt.Tx, thread []byte, full bool) (*rawCase, error) {
	rc := &rawCase{Sealed: map[string][]byte{}, Aside: map[string]string{}}
	if err := getJSON(tx.Bucket(bThreads), thread, &rc.caseRec); err != nil {
		return nil, err
	}
	ib, sb, ab := tx.Bucket(bItems), tx.Bucket(bSealed), tx.Bucket(bAside)
	c := tx.Bucket(bThreadItems).Cursor()
	for k, v := c.Seek(thread); k != nil && bytes.HasPrefix(k, thread) && len(k) == len(thread)+8; k, v = c.Next() {
		var m itemMeta
		if err := getJSON(ib, v, &m); err != nil {
			return nil, err
		}
		rc.Items = append(rc.Items, m)
		if r := ab.Get(v); r != nil {
			rc.Aside[m.ID] = string(r)
		}
		if full {
			rc.Sealed[m.ID] = bytes.Clone(sb.Get(be(m.Order)))
		}
	}
	rc.Triage = bytes.Clone(tx.Bucket(bTriage).Get(thread))
	if full {
		cc := tx.Bucket(bChrono).Cursor()
		for k, v := cc.Seek(thread); k != nil && bytes.HasPrefix(k, thread) && len(k) == len(thread)+8; k, v = cc.Next() {
			rc.Chrono = append(rc.Chrono, sealedRec{bytes.Clone(k), bytes.Clone(v)})
		}
	}
	return rc, nil
}

// caseThread finds the thread of a case number.
func (s *Store) caseThread(n uint64) (string, error) {
	var thread string
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bCaseNums).Get(be(n))
		if v == nil {
			return ErrNoCase
		}
		thread = string(v)
		return nil
	})
	return thread, err
}

func (s *Store) loadCaseNumber(n uint64, full bool) (*rawCase, error) {
	var rc *rawCase
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bCaseNums).Get(be(n))
		if v == nil {
			return ErrNoCase
		}
		var err error
		rc, err = loadCase(tx, v, full)
		return err
	})
	return rc, err
}

// caseOfThread returns the case number of thread, formatted.
func (s *Store) caseOfThread(thread string) (string, error) {
	var c caseRec
	err := s.db.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bThreads), []byte(thread), &c)
	})
	return CaseNumber(c.Number), err
}
