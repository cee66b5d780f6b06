package reviewer

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hearken-project/hearken/staff"
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

// itemCheck is the result of opening one pulled item.
type itemCheck struct {
	done     bool
	rejected string      // why its labels are refused; it joins no case
	reason   string      // why it is set aside; "" if it opened and matched
	report   *reportText // for a report that opened
}

const unopenedPreview = "(the report could not be opened)"

// checkItem opens a pulled item to find whether it can be trusted, and
// keeps what list shows of a report. The rest of the opened item is dropped.
func (s *Store) checkItem(it staff.Item) itemCheck {
	e, err := vault.Open(it.Sealed, s.m.Identity())
	switch {
	case err != nil:
		return itemCheck{done: true, reason: asideReason(err)}
	case e.Kind != it.Kind || (e.Route != "" && e.Route != it.Route):
		return itemCheck{done: true, reason: "its sealed content does not match its label"}
	case e.Kind == vault.KindReport:
		return itemCheck{done: true, report: &reportText{Preview: preview(e.Field("message")), Danger: e.Field("danger")}}
	}
	return itemCheck{done: true}
}

func asideReason(err error) string {
	switch {
	case errors.Is(err, vault.ErrTampered):
		return "it was changed after it was sealed"
	case errors.Is(err, vault.ErrWrongKey):
		return "it was not sealed to your key"
	case errors.Is(err, vault.ErrTruncated):
		return "it is incomplete"
	case errors.Is(err, vault.ErrTooLarge):
		return "it is too large"
	}
	return "it is not a sealed Hearken item"
}

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
	if err := s.applyTriage(&cs, rc); err != nil {
		return caseDigest{}, err
	}
	d := caseDigest{CaseSummary: cs, WaitingSince: since}
	for _, m := range rc.Items {
		if m.Kind != vault.KindReport {
			continue
		}
		d.ReportID = m.ID
		rt, ok := opened[m.ID]
		switch {
		case rc.Aside[m.ID] != "":
			d.Preview = unopenedPreview
		case ok:
			d.Preview, d.Danger = rt.Preview, rt.Danger
		case old.ReportID == m.ID:
			d.Preview, d.Danger = old.Preview, old.Danger
		default:
			e, err := vault.Open(tx.Bucket(bSealed).Get(be(m.Order)), s.m.Identity())
			if err != nil {
				d.Preview = "(the report could not be opened: " + asideReason(err) + ")"
				d.Problems++
				break
			}
			d.Preview, d.Danger = preview(e.Field("message")), e.Field("danger")
		}
		break
	}
	return d, nil
}

// List returns every case, most pressing first: closed cases last; then
// immediate, then high urgency; then cases awaiting an answer; longest
// waiting first. It reads only the sealed summaries. A summary that is
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
	SortCases(out)
	return out, nil
}
