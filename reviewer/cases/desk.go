package cases

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// What the lead's local web desk reads and writes beyond the command
// line's needs: attachments and the printable record in memory (the desk
// sends them to the browser and writes no file), a chronology line when
// decrypted data leaves the store that way, and the clear metadata its
// statistics are computed from.

// ErrNoAttachment means a case has no attachment at the place asked for.
var ErrNoAttachment = errors.New("there is no such attachment in this case")

// AttachmentData is one attachment of a case, decrypted, in memory.
type AttachmentData struct {
	AttachmentInfo
	Data []byte
}

// Attachment returns attachment att (from 0) of message msg (from 0, in
// the order Show lists them) of a case, decrypted. It writes nothing.
func (s *Store) Attachment(number uint64, msg, att int) (*AttachmentData, error) {
	cv, err := s.Show(number)
	if err != nil {
		return nil, err
	}
	if msg < 0 || msg >= len(cv.Messages) || cv.Messages[msg].envelope == nil {
		return nil, ErrNoAttachment
	}
	as := cv.Messages[msg].envelope.Attachments
	if att < 0 || att >= len(as) {
		return nil, ErrNoAttachment
	}
	a := as[att]
	return &AttachmentData{
		AttachmentInfo: AttachmentInfo{Name: a.Name, Type: a.Type, Size: len(a.Data), Cleaned: a.Cleaned},
		Data:           a.Data,
	}, nil
}

// Record returns the printable HTML record of a case, the same document
// Export writes, without writing it anywhere or recording anything.
func (s *Store) Record(number uint64) ([]byte, error) {
	cv, err := s.Show(number)
	if err != nil {
		return nil, err
	}
	return s.record(cv)
}

func (s *Store) record(cv *CaseView) ([]byte, error) {
	var b bytes.Buffer
	data := struct {
		Case    *CaseView
		Day, By string
	}{cv, s.today(), s.m.Name}
	if err := recordTmpl.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("failed to make the record: %w", err)
	}
	return b.Bytes(), nil
}

// RecordExport adds an export line to a case's chronology: what says what
// left the encrypted store (as "case record opened to print"), so the
// record shows every decrypted copy made, however it was made.
func (s *Store) RecordExport(number uint64, what string) error {
	what, err := CheckText("chronology line", what)
	if err != nil {
		return err
	}
	thread, err := s.caseThread(number)
	if err != nil {
		return err
	}
	_, err = s.addEntry(thread, entry{What: "export", Text: what})
	return err
}

// FirstResponse is when a case's report arrived and when the team first
// answered it, as calendar days: what response-time statistics need. It
// comes from clear metadata alone, so computing it opens nothing.
type FirstResponse struct {
	Case     string `json:"case"`
	Route    string `json:"route"`
	Reported string `json:"reported"` // day of the report; "" if it never reached this computer
	Replied  string `json:"replied"`  // day of the first reply after it; "" if none yet
}

// FirstResponses returns the FirstResponse of every case, in case order.
// A reply counts from the day it was written here or arrived from a
// colleague; one the server refused, or one set aside, is no answer.
func (s *Store) FirstResponses() ([]FirstResponse, error) {
	var out []FirstResponse
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bCaseNums).ForEach(func(_, thread []byte) error {
			rc, err := loadCase(tx, thread, false)
			if err != nil {
				return err
			}
			fr := FirstResponse{Case: CaseNumber(rc.Number), Route: rc.Route}
			for _, m := range rc.Items {
				switch {
				case m.Kind == vault.KindReport && fr.Reported == "":
					fr.Reported = m.Day
				case m.Kind == vault.KindReply && fr.Reported != "" && fr.Replied == "":
					if _, aside := rc.Aside[m.ID]; m.Failed == "" && !aside {
						fr.Replied = m.Day
					}
				}
			}
			out = append(out, fr)
			return nil
		})
	})
	return out, err
}
