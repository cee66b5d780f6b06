package cases

import (
	"fmt"
	"strings"

	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// CaseSummary is one case as List shows it: one line of reviewer list.
type CaseSummary struct {
	Case        string `json:"case"` // the case number, the same on every computer of the team
	Tag         string `json:"tag"`  // the start of the thread id (case numbers have replaced it)
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
	// Handling names whoever said they are handling the case.
	Handling []string `json:"handling,omitempty"`
	// Conflicts describe fields colleagues changed without sight of each
	// other's change, and what is shown ("Ms Patel set urgency to high
	// while Mr Jones set it to low; showing high").
	Conflicts []string `json:"conflicts,omitempty"`
	// LocalOnly names the fields whose values were set on this computer
	// before case records were shared, and were never sent to the team.
	LocalOnly []string `json:"local_only,omitempty"`
	// UpdatesQueued counts changes written here that wait for sync.
	UpdatesQueued int `json:"updates_queued"`
	// ReplyKeyConflict says the case has been given more than one reply
	// key and no lead has said which is the reporter's: replies wait.
	ReplyKeyConflict bool `json:"reply_key_conflict"`
	// Former is the number this computer gave the case before case
	// numbers were shared (HK-0001), if it had one.
	Former string `json:"former,omitempty"`
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
	// Note says something about a message that is not a problem: a reply
	// received before replies were signed.
	Note string `json:"note,omitempty"`
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

// ChronoLine is one line of a case's chronology: a message, a team event
// (numbered, the same on every computer of the team), or an entry written
// on this computer before case records were shared (Local).
type ChronoLine struct {
	N    uint64 `json:"n,omitempty"` // event number, for corrections; 0 for messages and local entries
	ID   string `json:"id,omitempty"`
	Day  string `json:"day"`
	Who  string `json:"who"`
	What string `json:"what"`
	Text string `json:"text,omitempty"`
	// Local marks an entry written on this computer before case records
	// were shared; it was never sent to the team.
	Local bool `json:"local,omitempty"`
	// State says where an event written here is: waiting to be sent, or
	// refused by the server.
	State string `json:"state,omitempty"`
}

// CaseView is a whole case, opened.
type CaseView struct {
	CaseSummary
	ReplyTo string `json:"-"`
	// ReplyKey is the fingerprint of the reply key replies are sealed to,
	// for colleagues to compare; KeyClaims are other keys the case was
	// given.
	ReplyKey  string     `json:"reply_key,omitempty"`
	KeyClaims []KeyClaim `json:"reply_key_claims,omitempty"`
	Notice    string     `json:"notice,omitempty"` // something the member must know first
	// KeyProblem says why replies wait for a lead to resolve the reply key.
	KeyProblem string       `json:"reply_key_problem,omitempty"`
	Messages   []Message    `json:"messages_list"`
	Chronology []ChronoLine `json:"chronology"`
}

// Show opens one case completely.
func (s *Store) Show(number uint64) (*CaseView, error) {
	var (
		rc     *rawCase
		st     *caseState
		pin    *pinRec
		legacy []entry
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bCaseNums).Get(be(number))
		if v == nil {
			return ErrNoCase
		}
		var err error
		if rc, err = loadCase(tx, v, true); err != nil {
			return err
		}
		if st, err = s.caseState(tx, rc.Thread); err != nil {
			return err
		}
		if pin, err = s.loadPin(tx, rc.Thread); err != nil {
			return err
		}
		for _, r := range rc.Chrono {
			var e entry
			if err := s.key.open(bChrono, r.key, r.sealed, &e); err != nil {
				return err
			}
			legacy = append(legacy, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	cv := &CaseView{CaseSummary: summarize(rc, s.now())}
	cv.applyState(st, rc)
	team, _ := s.TeamFor(rc.Route)
	var items []itemMeta
	for _, m := range rc.Items {
		if m.Kind != vault.KindEvent {
			items = append(items, m)
		}
	}
	msgs := make([]Message, len(items))
	parallel(len(items), func(i int) { msgs[i] = s.openMessage(rc, items[i], team) })
	languageNotes(msgs)
	cv.Messages = msgs
	cv.Problems = 0
	for _, m := range msgs {
		if m.Problem != "" {
			cv.Problems++
		}
	}
	s.showKeys(cv, pin, msgs)
	if cv.Preview == "" {
		for _, m := range msgs {
			if m.Kind == vault.KindReport && m.envelope != nil && m.Problem == "" {
				cv.Preview = preview(m.envelope.Field("message"))
				cv.Danger = m.envelope.Field("danger")
				break
			}
		}
	}
	cv.DangerNow = dangerNow(cv.Danger)
	haveReport := false
	for _, m := range msgs {
		haveReport = haveReport || m.Kind == vault.KindReport
	}
	if !haveReport {
		cv.Notice = noReportNotice(cv.Case)
	}
	if rc.Collided != "" {
		cv.Notice = strings.TrimPrefix(cv.Notice+" ", " ") + "Another case had the number " + rc.Collided +
			" first, so this one is numbered from the next part of its thread id: colleagues' computers may number it differently; compare the thread id (show --json)."
	}
	cv.Chronology = chronology(msgs, st, legacy)
	return cv, nil
}

// openMessage opens one item of a case for Show.
func (s *Store) openMessage(rc *rawCase, m itemMeta, team *vault.Team) Message {
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
	reason, aside := rc.Aside[m.ID]
	if aside {
		msg.Problem = "set aside: " + reason + "; it is kept unchanged in the store"
		if reason == asideBeforeJoining {
			msg.Problem = "waiting for a handover: " + reason
		}
		if !opensAside(reason) {
			return msg
		}
	}
	e, err := vault.Open(rc.Sealed[m.ID], s.ident)
	if err != nil {
		msg.Problem = "could not be opened: " + asideReason(err)
		return msg
	}
	msg.envelope = e
	msg.Author, msg.Fields = e.Author, e.Fields
	if m.Kind == vault.KindReply && !aside {
		switch sg, err := e.Verify(rc.Thread, m.ID); {
		case err == nil:
			// The team file's name for the key, where it has one: the
			// signed name is the author's own.
			if pub, err := vault.ParseSigningKey(sg.Author); err == nil && team != nil {
				if tm, ok := team.Lookup(pub); ok {
					msg.Author = tm.Name
				}
			}
		case m.Legacy && m.Mine && !m.Sent:
			msg.Note = "written before replies were signed; it is signed when it is sent"
		case m.Legacy && m.Mine:
			msg.Note = "sent before replies were signed"
		case m.Legacy:
			msg.Note = "received before replies were signed"
		}
	}
	for _, a := range e.Attachments {
		msg.Attachments = append(msg.Attachments, AttachmentInfo{Name: a.Name, Type: a.Type, Size: len(a.Data), Cleaned: a.Cleaned})
	}
	return msg
}

// showKeys gives a case view its reply key, the other keys it was given,
// and what is wrong with them. A case stored before keys were pinned has
// no pin yet: its first report that opens gives the key, and any other
// report or follow-up here with another key is a claim.
func (s *Store) showKeys(cv *CaseView, pin *pinRec, msgs []Message) {
	p := pinRec{}
	if pin != nil {
		p = *pin
		p.Claims = append([]keyClaim(nil), pin.Claims...)
	}
	for _, m := range msgs {
		if m.envelope == nil || m.envelope.ReplyTo == "" || m.Kind == vault.KindReply {
			continue
		}
		if p.ReplyTo == "" && m.Kind == vault.KindReport && m.Problem == "" {
			p.ReplyTo, p.Item = m.envelope.ReplyTo, m.ID
			continue
		}
		if p.ReplyTo != "" {
			from := "a second report"
			if m.Kind == vault.KindFollowUp {
				from = "a follow-up"
			}
			p.claim(keyClaim{Fingerprint: Fingerprint(m.envelope.ReplyTo), ReplyTo: m.envelope.ReplyTo, Item: m.ID, From: from, Day: m.Day})
		}
	}
	cv.ReplyTo, cv.ReplyKey = p.ReplyTo, Fingerprint(p.ReplyTo)
	for _, c := range p.Claims {
		cv.KeyClaims = append(cv.KeyClaims, KeyClaim{Fingerprint: c.Fingerprint, From: c.From, Day: c.Day, Settled: c.Settled})
	}
	cv.KeyProblem = keyProblem(&p)
	cv.ReplyKeyConflict = cv.KeyProblem != ""
}

// noReportNotice explains a case whose report never reached this computer.
func noReportNotice(number string) string {
	return "the report that began this case never reached this computer (only later messages did), so you cannot read it here or reply to the reporter from here. " +
		"Ask a colleague who has it to run reviewer export-sealed " + number + " and pass it on, or to reply themselves."
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
