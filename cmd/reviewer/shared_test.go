package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

// lead is one team member's reviewer: a store of their own, with the
// route's team file installed, syncing with the staff server.
type lead struct {
	m   *vault.Member
	st  *cases.Store
	c   *cases.Client
	dir string // the store folder
}

func newLead(t *testing.T, srv *staffServer, m *vault.Member, teamLines string) *lead {
	t.Helper()
	dir := t.TempDir()
	teamPath := filepath.Join(t.TempDir(), "team.txt")
	if err := os.WriteFile(teamPath, []byte(teamLines), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cases.InstallTeam(dir, teamPath, "students"); err != nil {
		t.Fatal(err)
	}
	st, err := cases.Open(dir, m, true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cases.NewClient(srv.srv.URL, "", m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); st.Close() })
	return &lead{m: m, st: st, c: c, dir: dir}
}

func (l *lead) sync(t *testing.T) *cases.SyncResult {
	t.Helper()
	res, err := cases.Sync(context.Background(), l.st, l.c)
	if err != nil {
		t.Fatalf("%s's sync: %v", l.m.Name, err)
	}
	return res
}

func teamLines(ms ...*vault.Member) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.TeamLine() + "\n")
	}
	return b.String()
}

// caseState is what must be the same on every lead's computer: each case,
// by its report, with its merged record. What is each computer's own (the
// state of its own unsent changes, days waiting) is left out.
func caseState(t *testing.T, l *lead) string {
	t.Helper()
	all, err := l.st.List()
	if err != nil {
		t.Fatal(err)
	}
	type view struct {
		Case, Status, Category, Urgency, Assigned string
		Handling, Conflicts                       []string
		Chronology                                []cases.ChronoLine
	}
	out := map[string]view{}
	for _, cs := range all {
		n, err := cases.ParseCaseNumber(cs.Case)
		if err != nil {
			t.Fatal(err)
		}
		cv, err := l.st.Show(n)
		if err != nil {
			t.Fatal(err)
		}
		v := view{Case: cv.Case, Status: cv.Status, Category: cv.Category, Urgency: cv.Urgency, Assigned: cv.Assigned,
			Handling: cv.Handling, Conflicts: cv.Conflicts}
		for _, line := range cv.Chronology {
			line.State = ""
			v.Chronology = append(v.Chronology, line)
		}
		out[cv.Preview] = v
	}
	data, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// numberOfReport finds the case of the report whose text is preview.
func numberOfReport(t *testing.T, l *lead, preview string) uint64 {
	t.Helper()
	all, err := l.st.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, cs := range all {
		if cs.Preview == preview {
			n, err := cases.ParseCaseNumber(cs.Case)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("%s has no case %q", l.m.Name, preview)
	return 0
}

// TestThreeLeadsConverge: three leads sync the same cases, change them
// while offline (the same fields at once, notes, "I am handling this",
// a correction), then sync in every order. Every lead of every order ends
// with the same case record, with the concurrent changes shown as
// conflicts, not hidden, and no note lost; a change made after seeing the
// others settles a conflict everywhere. The server's file holds none of it.
func TestThreeLeadsConverge(t *testing.T) {
	members := make([]*vault.Member, 3)
	for i, name := range []string{"Ada Lead", "Ben Deputy", "Cal Officer"} {
		m, err := vault.GenerateMember(name)
		if err != nil {
			t.Fatal(err)
		}
		members[i] = m
	}
	lines := teamLines(members...)
	orders := [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	var (
		mu    sync.Mutex
		first string
	)
	for _, order := range orders {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			srv := newStaffServer(t, dir, map[string]*vault.Team{"students": parseTeam(t, members...)})
			srv.report(t, "students", "one: my phone is taken every day")
			srv.report(t, "students", "two: someone follows me home")
			leads := make([]*lead, 3)
			for i, m := range members {
				leads[i] = newLead(t, srv, m, lines)
				leads[i].sync(t)
			}
			a, b, c := leads[0], leads[1], leads[2]
			one, two := numberOfReport(t, a, "one: my phone is taken every day"), numberOfReport(t, a, "two: someone follows me home")
			for _, l := range leads[1:] {
				if numberOfReport(t, l, "one: my phone is taken every day") != one {
					t.Fatal("the same case has another number on another computer")
				}
			}
			// Offline, each without the others' changes.
			must := func(_ any, err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(a.st.Triage(one, cases.TriageChange{Urgency: "high", Assign: "Okapi Walker"}))
			must(a.st.Note(one, "zebra-canary: A spoke to the head of year", 0))
			must(a.st.Handle(one, true))
			must(b.st.Triage(one, cases.TriageChange{Urgency: "low"}))
			must(b.st.Note(one, "B phoned the parents", 0))
			must(b.st.Handle(one, true))
			must(b.st.Triage(two, cases.TriageChange{Status: "closed"}))
			must(c.st.Triage(one, cases.TriageChange{Category: "bullying"}))
			must(c.st.Note(one, "C saw them at lunch", 0))
			must(c.st.Note(two, "C: nothing more to do", 0))
			must(c.st.Note(two, "C: it was the bus stop, not home", 1)) // corrects C's own first note on two
			// Every order, twice round, so that each has everyone's.
			for round := 0; round < 2; round++ {
				for _, i := range order {
					leads[i].sync(t)
				}
			}
			states := []string{caseState(t, a), caseState(t, b), caseState(t, c)}
			if states[0] != states[1] || states[0] != states[2] {
				t.Fatalf("the leads differ after syncing in order %v:\nA %s\nB %s\nC %s", order, states[0], states[1], states[2])
			}
			cv, err := a.st.Show(one)
			if err != nil {
				t.Fatal(err)
			}
			if len(cv.Conflicts) != 2 || !strings.Contains(cv.Conflicts[0], "set urgency to ") || !strings.Contains(cv.Conflicts[0], "; showing "+cv.Urgency) ||
				!strings.Contains(cv.Conflicts[1], "Ada Lead") || !strings.Contains(cv.Conflicts[1], "Ben Deputy") {
				t.Errorf("conflicts: %q", cv.Conflicts)
			}
			if cv.Category != "bullying" || cv.Assigned != "Okapi Walker" || !slices.Equal(cv.Handling, []string{"Ada Lead", "Ben Deputy"}) &&
				!slices.Equal(cv.Handling, []string{"Ben Deputy", "Ada Lead"}) {
				t.Errorf("case one: %+v", cv.CaseSummary)
			}
			var notes []string
			for _, l := range cv.Chronology {
				if l.What == "note" {
					notes = append(notes, l.Text)
				}
			}
			slices.Sort(notes)
			if !slices.Equal(notes, []string{"B phoned the parents", "C saw them at lunch", "zebra-canary: A spoke to the head of year"}) {
				t.Errorf("notes: %q", notes)
			}
			// The correction names the note it corrects by that note's
			// number in the merged record, whichever it is.
			cv2, _ := a.st.Show(two)
			var corrected uint64
			for _, l := range cv2.Chronology {
				if l.Text == "C: nothing more to do" {
					corrected = l.N
				}
			}
			if cv2.Status != "closed" || len(cv2.Conflicts) != 0 || corrected == 0 ||
				cv2.Chronology[len(cv2.Chronology)-1].What != fmt.Sprintf("correction to entry %d", corrected) {
				t.Errorf("case two: %+v %+v", cv2.CaseSummary, cv2.Chronology)
			}
			// The same state in every order.
			mu.Lock()
			if first == "" {
				first = normalize(states[0])
			} else if got := normalize(states[0]); got != first {
				t.Errorf("order %v ends otherwise than another:\n%s\nwant\n%s", order, got, first)
			}
			mu.Unlock()
			// B, having seen both, sets the urgency again and stops
			// handling it: settled everywhere.
			must(b.st.Triage(one, cases.TriageChange{Urgency: "medium"}))
			must(b.st.Handle(one, false))
			for _, l := range []*lead{b, a, c} {
				l.sync(t)
			}
			for _, l := range leads {
				cv, _ := l.st.Show(one)
				if cv.Urgency != "medium" || len(cv.Conflicts) != 0 || !slices.Equal(cv.Handling, []string{"Ada Lead"}) {
					t.Errorf("%s after B settled it: urgency %s, conflicts %q, handling %q", l.m.Name, cv.Urgency, cv.Conflicts, cv.Handling)
				}
			}
			// The server's file holds no word of any of it.
			srv.store.Close()
			found, files, err := testkit.FindCanariesInDir(dir, []string{"zebra-canary", "Okapi Walker", "bullying", "phoned the parents", "Ada Lead", "bus stop"})
			if err != nil || files == 0 || len(found) > 0 {
				t.Errorf("server data (%d files, %v): %q", files, err, found)
			}
		})
	}
}

// normalize takes out of a state what differs between runs by design:
// case numbers (new threads each run) and event ids.
func normalize(s string) string {
	var v map[string]map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return s
	}
	for _, c := range v {
		delete(c, "Case")
		if chron, ok := c["Chronology"].([]any); ok {
			for _, l := range chron {
				if m, ok := l.(map[string]any); ok {
					delete(m, "id")
					delete(m, "day")
				}
			}
		}
	}
	data, _ := json.Marshal(v)
	return string(data)
}
