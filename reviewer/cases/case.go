package cases

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// CaseNumber formats a local case number.
func CaseNumber(n uint64) string { return fmt.Sprintf("HK-%04d", n) }

// ParseCaseNumber reads "HK-0007", "hk7", "7" or "#7".
func ParseCaseNumber(s string) (uint64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "#")
	t = strings.TrimPrefix(t, "HK")
	t = strings.TrimPrefix(t, "-")
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a case number; case numbers look like HK-0001 (see reviewer list)", s)
	}
	return n, nil
}

// threadTag is the short form of a thread id that the whole team shares
// (case numbers are each computer's own): its first 8 hex digits.
func threadTag(thread string) string {
	t := strings.ReplaceAll(thread, "-", "")
	if len(t) > 8 {
		t = t[:8]
	}
	return t
}

// caseFor returns the case of thread, creating it (next number) if new.
func caseFor(tx *bolt.Tx, thread, route, day string) (caseRec, bool, error) {
	threads := tx.Bucket(bThreads)
	var c caseRec
	if threads.Get([]byte(thread)) != nil {
		err := getJSON(threads, []byte(thread), &c)
		return c, false, err
	}
	meta := tx.Bucket(bMeta)
	var n uint64 = 1
	if v := meta.Get(kNextCase); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	if err := meta.Put(kNextCase, be(n+1)); err != nil {
		return c, false, err
	}
	c = caseRec{Number: n, Thread: thread, Route: route, First: day}
	if err := putJSON(threads, []byte(thread), c); err != nil {
		return c, false, err
	}
	return c, true, tx.Bucket(bCaseNums).Put(be(n), []byte(thread))
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
