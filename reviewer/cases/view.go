package cases

import (
	"fmt"

	"github.com/hearken-project/hearken/vault"
)

// CaseSummary is one case as List shows it: one line of reviewer list.
type CaseSummary struct {
	Case        string `json:"case"` // this computer's own number
	Tag         string `json:"tag"`  // the thread's tag, the same for the whole team
	Thread      string `json:"thread"`
	Route       string `json:"route"`
	Status      string `json:"status"`
	Category    string `json:"category,omitempty"`
	Urgency     string `json:"urgency,omitempty"`
	Assigned    string `json:"assigned,omitempty"`
	Received    string `json:"received"`         // calendar day of the first message
	LastMessage string `json:"last_message"`     // calendar day of the newest message
	Unanswered  bool   `json:"unanswered"`       // the reporter wrote after the last reply
	WaitingDays int    `json:"waiting_days"`     // days since the oldest unanswered message
	Messages    int    `json:"messages"`         // items in the case
	Queued      int    `json:"queued"`           // replies waiting for sync
	Preview     string `json:"preview"`          // start of the report's message
	Danger      string `json:"danger,omitempty"` // the report's answer to "Is someone in danger right now?"
	DangerNow   bool   `json:"danger_now"`       // that answer was yes
	Problems    int    `json:"problems"`         // items set aside
}

// Message is one item of a case, opened.
type Message struct {
	ID          string           `json:"id"`
	Kind        vault.Kind       `json:"kind"`
	Day         string           `json:"day"`
	Author      string           `json:"author,omitempty"`
	Fields      []vault.Field    `json:"fields,omitempty"`
	Attachments []AttachmentInfo `json:"attachments,omitempty"`
	State       string           `json:"state,omitempty"` // for replies written here: queued, sent, failed
	Problem     string           `json:"problem,omitempty"`
	// LanguageNote says in words which language the reporter wrote in,
	// where that helps ("The reporter wrote in Arabic.").
	LanguageNote string `json:"language_note,omitempty"`
	envelope     *vault.Envelope
	order        uint64
}

// AttachmentInfo describes an attachment without its data.
type AttachmentInfo struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Size    int    `json:"size"`
	Cleaned bool   `json:"cleaned"`
}

// SizeText writes the attachment's size for people: "1 byte",
// "900 bytes", "12 KB", "1.5 MB".
func (a AttachmentInfo) SizeText() string {
	switch {
	case a.Size == 1:
		return "1 byte"
	case a.Size < 1000:
		return fmt.Sprintf("%d bytes", a.Size)
	case a.Size < 999500:
		return fmt.Sprintf("%d KB", (a.Size+500)/1000)
	}
	return fmt.Sprintf("%.1f MB", float64(a.Size)/1e6)
}

// ChronoLine is one line of a case's chronology, derived from its messages
// and from the entries written here.
type ChronoLine struct {
	N    uint64 `json:"n,omitempty"` // entry number, for corrections; 0 for messages
	Day  string `json:"day"`
	Who  string `json:"who"`
	What string `json:"what"`
	Text string `json:"text,omitempty"`
}

// CaseView is a whole case, opened.
type CaseView struct {
	CaseSummary
	ReplyTo    string       `json:"-"`
	Notice     string       `json:"notice,omitempty"` // something the member must know first
	Messages   []Message    `json:"messages_list"`
	Chronology []ChronoLine `json:"chronology"`
}

// Show opens one case completely.
func (s *Store) Show(number uint64) (*CaseView, error) {
	rc, err := s.loadCaseNumber(number, true)
	if err != nil {
		return nil, err
	}
	cv := &CaseView{CaseSummary: summarize(rc, s.now())}
	if err := s.applyTriage(&cv.CaseSummary, rc); err != nil {
		return nil, err
	}
	msgs := make([]Message, len(rc.Items))
	parallel(len(rc.Items), func(i int) {
		m := rc.Items[i]
		msg := Message{ID: m.ID, Kind: m.Kind, Day: m.Day, order: m.Order}
		if m.Mine {
			switch {
			case m.Failed != "":
				msg.State = "not delivered: " + m.Failed
			case m.Sent:
				msg.State = "sent"
			default:
				msg.State = "queued: run reviewer sync to send it"
			}
		}
		if reason, aside := rc.Aside[m.ID]; aside {
			msg.Problem = "set aside: " + reason + "; it is kept unchanged in the store"
			msgs[i] = msg
			return
		}
		e, err := vault.Open(rc.Sealed[m.ID], s.m.Identity())
		if err != nil {
			msg.Problem = "could not be opened: " + asideReason(err)
			msgs[i] = msg
			return
		}
		msg.envelope = e
		msg.Author, msg.Fields = e.Author, e.Fields
		for _, a := range e.Attachments {
			msg.Attachments = append(msg.Attachments, AttachmentInfo{Name: a.Name, Type: a.Type, Size: len(a.Data), Cleaned: a.Cleaned})
		}
		msgs[i] = msg
	})
	languageNotes(msgs)
	cv.Messages = msgs
	cv.Problems = 0
	haveReport := false
	for _, m := range msgs {
		haveReport = haveReport || m.Kind == vault.KindReport
		if m.Problem != "" {
			cv.Problems++
		}
		if m.Kind == vault.KindReport && m.envelope != nil {
			if cv.ReplyTo == "" {
				cv.ReplyTo = m.envelope.ReplyTo
			}
			if cv.Preview == "" {
				cv.Preview = preview(m.envelope.Field("message"))
				cv.Danger = m.envelope.Field("danger")
			}
		}
	}
	cv.DangerNow = dangerNow(cv.Danger)
	if !haveReport {
		cv.Notice = noReportNotice(cv.Tag)
	}
	// Chronology: messages in arrival order, with entries written here
	// placed after the newest message that existed when they were written.
	var entries []entry
	for _, r := range rc.Chrono {
		var e entry
		if err := s.key.open(bChrono, r.key, r.sealed, &e); err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	ei := 0
	flush := func(upTo uint64) {
		for ei < len(entries) && entries[ei].After <= upTo {
			e := entries[ei]
			cv.Chronology = append(cv.Chronology, ChronoLine{N: e.N, Day: e.Day, Who: e.Who, What: entryWhat(e), Text: e.Text})
			ei++
		}
	}
	for _, m := range msgs {
		flush(m.order - 1)
		cv.Chronology = append(cv.Chronology, messageLine(m))
	}
	flush(^uint64(0))
	return cv, nil
}

// noReportNotice explains a case whose report never reached this computer.
func noReportNotice(tag string) string {
	return "the report that began this case never reached this computer (only later messages did), so you cannot read it here or reply to the reporter from here. " +
		"Ask a colleague who has it to run reviewer export-sealed on their case with tag #" + tag + " and pass it on, or to reply themselves."
}

func entryWhat(e entry) string {
	if e.Corrects != 0 {
		return fmt.Sprintf("correction to entry %d", e.Corrects)
	}
	return e.What
}

func messageLine(m Message) ChronoLine {
	l := ChronoLine{Day: m.Day}
	switch m.Kind {
	case vault.KindReport:
		l.Who, l.What = "reporter", "report received"
	case vault.KindFollowUp:
		l.Who, l.What = "reporter", "follow-up received"
	case vault.KindReply:
		l.Who, l.What = m.Author, "reply"
		if l.Who == "" {
			l.Who = "team"
		}
		if m.State != "" {
			l.Text = m.State
		}
	}
	if m.Problem != "" {
		l.Text = m.Problem
	}
	return l
}
