package reviewer

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hearken-project/hearken/vault"
)

// CaseSummary is one line of reviewer list.
type CaseSummary struct {
	Case        string `json:"case"` // this computer's own number
	Tag         string `json:"tag"`  // the thread's tag, the same for the whole team
	Thread      string `json:"thread"`
	Route       string `json:"route"`
	Status      string `json:"status"`
	Category    string `json:"category,omitempty"`
	Urgency     string `json:"urgency,omitempty"`
	Assigned    string `json:"assigned,omitempty"`
	Received    string `json:"received"`     // calendar day of the first message
	LastMessage string `json:"last_message"` // calendar day of the newest message
	Unanswered  bool   `json:"unanswered"`   // the reporter wrote after the last reply
	WaitingDays int    `json:"waiting_days"` // days since the oldest unanswered message
	Messages    int    `json:"messages"`     // items in the case
	Queued      int    `json:"queued"`       // replies waiting for sync
	Preview     string `json:"preview"`      // start of the report's message
	Danger      string `json:"danger,omitempty"`
	Problems    int    `json:"problems"` // items set aside
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
	envelope    *vault.Envelope
	order       uint64
}

// SavedAttachment is an attachment written to disk by SaveAttachments.
type SavedAttachment struct {
	Path    string
	Cleaned bool
}

// SaveAttachments writes every attachment of a case into dir, decrypted,
// each file created O_EXCL with mode 0600, and records that in the case's
// chronology. Names come from the reporter, so they are reduced to a safe
// base name and prefixed with the message's place in the case.
func (s *Store) SaveAttachments(number uint64, dir string) ([]SavedAttachment, error) {
	cv, err := s.Show(number)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create %s: %w", dir, err)
	}
	var saved []SavedAttachment
	for i, m := range cv.Messages {
		if m.envelope == nil {
			continue
		}
		for j, a := range m.envelope.Attachments {
			name := fmt.Sprintf("%s-%02d-%d-%s", CaseNumber(number), i+1, j+1, safeFileName(a.Name))
			path := filepath.Join(dir, name)
			if err := writeNew(path, a.Data); err != nil {
				return saved, err
			}
			saved = append(saved, SavedAttachment{Path: path, Cleaned: a.Cleaned})
		}
	}
	if len(saved) > 0 {
		if _, err := s.AddEntry(cv.Thread, Entry{What: "export", Text: fmt.Sprintf("%d attachments saved to this computer", len(saved))}); err != nil {
			return saved, err
		}
	}
	return saved, nil
}

// safeFileName keeps letters, digits, dots, hyphens and underscores of a
// name's last element, so it cannot climb out of the folder, hide its type
// behind control characters, or start with a dot.
func safeFileName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 80 {
			break
		}
	}
	out := strings.TrimLeft(b.String(), ".")
	if out == "" {
		out = "attachment"
	}
	return out
}

// AttachmentInfo describes an attachment without its data.
type AttachmentInfo struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Size    int    `json:"size"`
	Cleaned bool   `json:"cleaned"`
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

const previewLen = 60

func preview(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= previewLen {
		return s
	}
	r := []rune(s)
	return string(r[:previewLen-1]) + "…"
}

func daysSince(day string, now time.Time) int {
	d, err := time.Parse("2006-01-02", day)
	if err != nil {
		return 0
	}
	today, _ := time.Parse("2006-01-02", vault.Today(now))
	return max(0, int(today.Sub(d).Hours()/24))
}

// tally fills the parts of a summary that need no decryption, and returns
// the day of the oldest message still unanswered ("" if none is).
func tally(rc *rawCase) (CaseSummary, string) {
	cs := CaseSummary{
		Case: CaseNumber(rc.Number), Tag: threadTag(rc.Thread), Thread: rc.Thread, Route: rc.Route,
		Status: "new", Received: rc.First, Messages: len(rc.Items), Problems: len(rc.Aside),
	}
	firstUnanswered := ""
	for i, m := range rc.Items {
		if i == 0 || m.Day < cs.Received {
			cs.Received = m.Day
		}
		if m.Day > cs.LastMessage {
			cs.LastMessage = m.Day
		}
		switch m.Kind {
		case vault.KindReply:
			// A reply not delivered, or one set aside (unread, perhaps not
			// a reply at all), is no answer.
			if _, aside := rc.Aside[m.ID]; m.Failed == "" && !aside {
				firstUnanswered = ""
			}
			if m.Mine && !m.Sent && m.Failed == "" {
				cs.Queued++
			}
		default:
			if firstUnanswered == "" {
				firstUnanswered = m.Day
			}
		}
	}
	cs.Unanswered = firstUnanswered != ""
	return cs, firstUnanswered
}

// summarize is tally with the waiting time counted to now.
func summarize(rc *rawCase, now time.Time) CaseSummary {
	cs, since := tally(rc)
	if since != "" {
		cs.WaitingDays = daysSince(since, now)
	}
	return cs
}

func (s *Store) applyTriage(cs *CaseSummary, rc *rawCase) error {
	if rc.Triage == nil {
		return nil
	}
	var t Triage
	if err := s.key.open(bTriage, []byte(rc.Thread), rc.Triage, &t); err != nil {
		return err
	}
	cs.Status, cs.Category, cs.Urgency, cs.Assigned = t.Status, t.Category, t.Urgency, t.Assigned
	return nil
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

// rankUrgency is a case's urgency for ordering: a case nobody has triaged
// whose reporter said someone is in danger counts as immediate.
func rankUrgency(c CaseSummary) int {
	if c.Status == "new" && c.Urgency == "" && strings.EqualFold(strings.TrimSpace(c.Danger), "yes") {
		return urgencyRank("immediate")
	}
	return urgencyRank(c.Urgency)
}

// caseOrder is a case number for ordering; one that does not parse sorts
// last.
func caseOrder(c string) uint64 {
	n, err := ParseCaseNumber(c)
	if err != nil {
		return ^uint64(0)
	}
	return n
}

// SortCases orders cases as List does.
func SortCases(cs []CaseSummary) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if (a.Status == "closed") != (b.Status == "closed") {
			return b.Status == "closed"
		}
		if ra, rb := rankUrgency(a), rankUrgency(b); ra != rb {
			return ra < rb
		}
		if a.Unanswered != b.Unanswered {
			return a.Unanswered
		}
		if a.WaitingDays != b.WaitingDays {
			return a.WaitingDays > b.WaitingDays
		}
		return caseOrder(a.Case) < caseOrder(b.Case)
	})
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
	if !haveReport {
		cv.Notice = noReportNotice(cv.Tag)
	}
	// Chronology: messages in arrival order, with entries written here
	// placed after the newest message that existed when they were written.
	var entries []Entry
	for _, r := range rc.Chrono {
		var e Entry
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

func entryWhat(e Entry) string {
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
