package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

// setTeam writes a lead's team file for the route anew.
func (l *lead) setTeam(t *testing.T, ms ...*vault.Member) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "team.txt")
	if err := os.WriteFile(p, []byte(teamLines(ms...)), 0o600); err != nil {
		t.Fatal(err)
	}
	l.st.Close()
	if _, _, err := cases.InstallTeam(l.dir, p, "students"); err != nil {
		t.Fatal(err)
	}
	st, err := cases.Open(l.dir, l.m, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	l.st = st
}

// TestHandoverToNewMember: Cal joins a team of two after its cases began.
// What every member of the time had fetched has left the server, and what
// waits there is sealed without Cal: Cal's first sync says calmly which
// cases wait for a handover and who can give it, and sets nothing aside as
// damaged. Ada hands the cases over; Cal then has each case as Ada and Ben
// do (report, reply, triage, note), can reply on it, and every member's
// chronology says who handed what over. Then Ben leaves the team: the
// server sends him nothing more, and nothing new is sealed to him.
func TestHandoverToNewMember(t *testing.T) {
	var ms []*vault.Member
	for _, name := range []string{"Ada Lead", "Ben Deputy", "Cal Newcomer"} {
		m, err := vault.GenerateMember(name)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	dir := t.TempDir()
	srv := newStaffServer(t, dir, map[string]*vault.Team{"students": parseTeam(t, ms[0], ms[1])})
	ada, ben := newLead(t, srv, ms[0], teamLines(ms[0], ms[1])), newLead(t, srv, ms[1], teamLines(ms[0], ms[1]))
	srv.report(t, "students", "first: someone takes my lunch money")
	ada.sync(t)
	ben.sync(t)
	one := srv.caseOf(t, 0)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	team, err := ada.st.TeamFor("students")
	if err != nil {
		t.Fatal(err)
	}
	must(ada.st.Reply(one, "Thank you for telling us. Which year are you in?", team))
	must(ada.st.Triage(one, cases.TriageChange{Urgency: "high", Assign: "Quill Keeper"}))
	must(ben.st.Note(one, "walrus-canary: Ben spoke to the form tutor", 0))
	for range 2 {
		ada.sync(t)
		ben.sync(t)
	}
	// A second report, fetched by Ada only: it waits on the server for Ben.
	srv.report(t, "students", "second: a group chat about me")
	ada.sync(t)
	two := srv.caseOf(t, 1)

	// Cal joins: the server's team file and every lead's.
	srv.restart(map[string]*vault.Team{"students": parseTeam(t, ms...)})
	ada.setTeam(t, ms...)
	ben.setTeam(t, ms...)
	cal := newLead(t, srv, ms[2], teamLines(ms...))
	res := cal.sync(t)
	if len(res.SetAside) != 0 || !slices.Equal(res.BeforeJoining, []string{cases.CaseNumber(two)}) ||
		!slices.Equal(res.Colleagues, []string{"Ada Lead", "Ben Deputy"}) {
		t.Fatalf("Cal's first sync: set aside %+v, waiting for a handover %q from %q", res.SetAside, res.BeforeJoining, res.Colleagues)
	}
	cv, err := cal.st.Show(two)
	if err != nil || len(cv.Messages) != 1 || !strings.HasPrefix(cv.Messages[0].Problem, "waiting for a handover") {
		t.Fatalf("Cal's case two before the handover: %+v, %v", cv, err)
	}
	if _, err := cal.st.Show(one); !errors.Is(err, cases.ErrNoCase) {
		t.Fatalf("case one is on Cal's computer before the handover: %v", err)
	}

	// Ada hands both cases over.
	for _, n := range []uint64{one, two} {
		r, err := ada.st.Handover(n)
		if err != nil || r.Events != 1 || r.Unreadable != 0 {
			t.Fatalf("handover of %s: %+v, %v", cases.CaseNumber(n), r, err)
		}
	}
	if r := ada.sync(t); r.UpdatesSent != 2 {
		t.Fatalf("Ada sent %d case updates", r.UpdatesSent)
	}
	res = cal.sync(t)
	if len(res.SetAside) != 0 || len(res.BeforeJoining) != 0 || res.HandedOver != 5 {
		t.Fatalf("Cal's sync after the handover: set aside %+v, waiting %q, handed over %d", res.SetAside, res.BeforeJoining, res.HandedOver)
	}
	ben.sync(t)
	ada.sync(t)
	for _, n := range []uint64{one, two} {
		want := caseView(t, ada, n)
		for _, l := range []*lead{ben, cal} {
			if got := caseView(t, l, n); got != want {
				t.Errorf("%s's %s differs from Ada's:\n%s\nwant\n%s", l.m.Name, cases.CaseNumber(n), got, want)
			}
		}
	}
	cv, err = cal.st.Show(one)
	if err != nil || cv.Urgency != "high" || cv.Assigned != "Quill Keeper" || cv.Preview != "first: someone takes my lunch money" {
		t.Fatalf("Cal's case one: %+v, %v", cv, err)
	}
	var what []string
	for _, l := range cv.Chronology {
		what = append(what, l.What+": "+l.Text)
	}
	joined := strings.Join(what, "\n")
	if len(cv.Messages) != 2 || msgText(cv.Messages[1]) != "Thank you for telling us. Which year are you in?" || cv.Messages[1].Author != "Ada Lead" {
		t.Errorf("Cal's messages of case one: %+v", cv.Messages)
	}
	if !strings.Contains(joined, "walrus-canary") ||
		!strings.Contains(joined, "handover: handed over 4 items of the case, sealed again for the team: Ada Lead, Ben Deputy, Cal Newcomer") {
		t.Errorf("Cal's chronology of case one:\n%s", joined)
	}
	// Cal answers on case one: the reply key came with the handed-over
	// report, and the reporter reads the answer with the receipt.
	team, err = cal.st.TeamFor("students")
	if err != nil {
		t.Fatal(err)
	}
	must(cal.st.Reply(one, "I am Cal, I can help too.", team))
	cal.sync(t)
	replies, _, err := srv.store.Replies(srv.receipts[0])
	if err != nil || len(replies) != 2 || replies[1].Field("message") != "I am Cal, I can help too." {
		t.Fatalf("the reporter reads %d replies, %v", len(replies), err)
	}

	// Ben leaves: the server sends him nothing, and Ada's next update is
	// sealed without him.
	srv.restart(map[string]*vault.Team{"students": parseTeam(t, ms[0], ms[2])})
	ada.setTeam(t, ms[0], ms[2])
	must(ada.st.Note(two, "after Ben left", 0))
	ada.sync(t)
	if _, err := cases.Sync(t.Context(), ben.st, ben.c); !errors.Is(err, cases.ErrNotKnown) {
		t.Errorf("Ben's sync after leaving: %v", err)
	}
	items, _, err := srv.store.Pending("", 100, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, it := range items {
		if e, _ := vault.Open(it.Sealed, ms[0].Identity()); e != nil && strings.Contains(string(e.Signed), "after Ben left") {
			found++
			if _, err := vault.Open(it.Sealed, ms[1].Identity()); !errors.Is(err, vault.ErrWrongKey) {
				t.Errorf("an update written after Ben left is sealed to him: %v", err)
			}
		}
	}
	if found != 1 {
		t.Errorf("the server holds %d copies of the update written after Ben left", found)
	}
	if r := cal.sync(t); r.Updates != 1 {
		t.Errorf("Cal received %d updates after Ben left", r.Updates)
	}
	srv.store.Close()
	canaries, files, err := testkit.FindCanariesInDir(dir, []string{"walrus-canary", "Quill Keeper", "lunch money", "I can help too"})
	if err != nil || files == 0 || len(canaries) > 0 {
		t.Errorf("server data (%d files, %v): %q", files, err, canaries)
	}
}

// caseView is one case as a member's reviewer shows it, without what is
// each computer's own.
func caseView(t *testing.T, l *lead, n uint64) string {
	t.Helper()
	cv, err := l.st.Show(n)
	if err != nil {
		t.Fatalf("%s: %v", l.m.Name, err)
	}
	var b strings.Builder
	b.WriteString(cv.Case + " " + cv.Status + " " + cv.Urgency + " " + cv.Assigned + " " + cv.Preview + "\n")
	for _, c := range cv.Chronology {
		if c.What == "reply" {
			c.Text = "" // the author's own shows the reply's state
		}
		b.WriteString(c.What + " | " + c.Who + " | " + c.Text + "\n")
	}
	for _, m := range cv.Messages {
		b.WriteString(string(m.Kind) + " | " + m.Author + " | " + m.Problem + " | " + msgText(m) + "\n")
	}
	return b.String()
}

func msgText(m cases.Message) string {
	for _, f := range m.Fields {
		if f.Name == "message" {
			return f.Value
		}
	}
	return ""
}
