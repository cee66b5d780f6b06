package cases

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// Each case keeps a sealed summary of what list shows (triage, counts,
// days, the start of the report), so list opens no report. Sync takes the
// report's words when it opens the item to check it; the summary is rebuilt
// in the same transaction as anything that changes the case.

// caseDigest is a case's summary as stored.
type caseDigest struct {
	CaseSummary
	// WaitingSince is the day of the oldest unanswered message: list turns
	// it into WaitingDays on the day it runs.
	WaitingSince string `json:"waiting_since,omitempty"`
	// ReportID is the item Preview and Danger were taken from.
	ReportID string `json:"report_id,omitempty"`
}

// reportText is what list shows of an opened report.
type reportText struct {
	Preview, Danger string
}

const unopenedPreview = "(the report could not be opened)"

// handoverPreview is a report's preview while it waits for a handover.
const handoverPreview = "(sealed before you joined the team: waiting for a colleague to hand the case over)"

// refreshDigest rebuilds and stores the summary of thread's case. opened
// holds reports opened in this transaction, by item id. A summary that
// fails its check is rebuilt from the case's own records, never trusted.
func (s *Store) refreshDigest(tx *bolt.Tx, thread string, opened map[string]reportText) error {
	key := []byte(thread)
	sb := tx.Bucket(bSummaries)
	var old caseDigest
	if v := sb.Get(key); v != nil {
		if s.key.open(bSummaries, key, v, &old) != nil {
			old = caseDigest{}
		}
	}
	d, err := s.buildDigest(tx, key, old, opened)
	if err != nil {
		return err
	}
	sealed, err := s.key.seal(bSummaries, key, d)
	if err != nil {
		return err
	}
	return sb.Put(key, sealed)
}

// buildDigest summarizes a case from its clear metadata, its triage and the
// words of its first report: from opened, from the old summary, or (only if
// neither has them) by opening the report now.
func (s *Store) buildDigest(tx *bolt.Tx, thread []byte, old caseDigest, opened map[string]reportText) (caseDigest, error) {
	rc, err := loadCase(tx, thread, false)
	if err != nil {
		return caseDigest{}, err
	}
	cs, since := tally(rc)
	st, err := s.caseState(tx, rc.Thread)
	if err != nil {
		return caseDigest{}, err
	}
	cs.applyState(st, rc)
	pin, err := s.loadPin(tx, rc.Thread)
	if err != nil {
		return caseDigest{}, err
	}
	if pin != nil {
		cs.ReplyKeyConflict = len(pin.open()) > 0
	}
	d := caseDigest{CaseSummary: cs, WaitingSince: since}
	reports := reportFirst(rc, pin)
	if len(reports) == 0 {
		return d, nil
	}
	m := reports[0]
	d.ReportID = m.ID
	rt, ok := opened[m.ID]
	switch {
	case rc.Aside[m.ID] == asideBeforeJoining:
		d.Preview = handoverPreview
	case rc.Aside[m.ID] != "" && !opensAside(rc.Aside[m.ID]):
		d.Preview = unopenedPreview
	case ok:
		d.Preview, d.Danger = rt.Preview, rt.Danger
	case old.ReportID == m.ID:
		d.Preview, d.Danger = old.Preview, old.Danger
	default:
		e, err := vault.Open(tx.Bucket(bSealed).Get(be(m.Order)), s.ident)
		if err != nil {
			d.Preview = "(the report could not be opened: " + asideReason(err) + ")"
			d.Problems++
			break
		}
		d.Preview, d.Danger = preview(e.Field("message")), e.Field("danger")
	}
	return d, nil
}

// List returns every case, most pressing first: closed cases last; first
// of all a case nobody has triaged whose reporter said someone is in
// danger now; then immediate, then high urgency; then cases awaiting an
// answer; longest waiting first. It reads only the sealed summaries. A summary that is
// missing or fails its check is rebuilt from the case's own records (which
// opens its report) and the case is flagged with a problem.
func (s *Store) List() ([]CaseSummary, error) {
	now := s.now()
	var out []CaseSummary
	err := s.db.View(func(tx *bolt.Tx) error {
		var nums, threads, sealed [][]byte
		sb := tx.Bucket(bSummaries)
		err := tx.Bucket(bCaseNums).ForEach(func(num, thread []byte) error {
			nums = append(nums, num)
			threads = append(threads, thread)
			sealed = append(sealed, sb.Get(thread))
			return nil
		})
		if err != nil {
			return err
		}
		digests := make([]caseDigest, len(threads))
		errs := make([]error, len(threads))
		parallel(len(threads), func(i int) {
			if sealed[i] != nil {
				errs[i] = s.key.open(bSummaries, threads[i], sealed[i], &digests[i])
			}
		})
		out = make([]CaseSummary, len(threads))
		for i := range threads {
			if errs[i] != nil || sealed[i] == nil {
				// Every change to a case writes its summary, so this is
				// damage; list the case all the same.
				digests[i], errs[i] = s.buildDigest(tx, threads[i], caseDigest{}, nil)
				digests[i].Problems++
			}
			if errs[i] != nil {
				n := uint64(0)
				if len(nums[i]) == 8 {
					n = binary.BigEndian.Uint64(nums[i])
				}
				return fmt.Errorf("%s: %w", CaseNumber(n), errs[i])
			}
			cs := digests[i].CaseSummary
			cs.Tag = threadTag(string(threads[i]))
			if len(nums[i]) == 8 {
				// The number, not the summary's copy of it: a summary
				// written before a migration names the former one.
				cs.Case = CaseNumber(binary.BigEndian.Uint64(nums[i]))
			}
			cs.DangerNow = dangerNow(cs.Danger)
			if digests[i].WaitingSince != "" {
				cs.WaitingDays = daysSince(digests[i].WaitingSince, now)
			}
			out[i] = cs
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortCases(out)
	return out, nil
}

// tally fills the parts of a summary that need no decryption, and returns
// the day of the oldest message still unanswered ("" if none is).
func tally(rc *rawCase) (CaseSummary, string) {
	cs := CaseSummary{
		Case: CaseNumber(rc.Number), Tag: threadTag(rc.Thread), Thread: rc.Thread, Route: rc.Route,
		Status: "new", Received: rc.First, Problems: len(rc.Aside),
	}
	if rc.Former != 0 {
		cs.Former = fmt.Sprintf("HK-%04d", rc.Former)
	}
	firstUnanswered := ""
	for i, m := range rc.Items {
		if i == 0 || m.Day < cs.Received {
			cs.Received = m.Day
		}
		if m.Kind == vault.KindEvent {
			continue
		}
		cs.Messages++
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

// applyState gives a summary the case's merged shared record.
func (cs *CaseSummary) applyState(st *caseState, rc *rawCase) {
	t := st.triage()
	cs.Status, cs.Category, cs.Urgency, cs.Assigned = t.Status, t.Category, t.Urgency, t.Assigned
	cs.Handling = st.handling()
	cs.Conflicts = st.conflicts()
	cs.LocalOnly = st.localFields()
	for _, e := range st.events {
		if e.pending {
			cs.UpdatesQueued++
		}
	}
}

// reportFirst lists a case's reports, the one whose reply key is pinned
// first, then those not set aside, then the rest.
func reportFirst(rc *rawCase, pin *pinRec) []itemMeta {
	var first, ok, rest []itemMeta
	for _, m := range rc.Items {
		switch {
		case m.Kind != vault.KindReport:
		case pin != nil && m.ID == pin.Item:
			first = append(first, m)
		case rc.Aside[m.ID] == "":
			ok = append(ok, m)
		default:
			rest = append(rest, m)
		}
	}
	return append(append(first, ok...), rest...)
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
