package staff

import (
	"strings"
	"sync"
	"testing"

	"github.com/hearken-project/hearken/vault"
)

// When the team files are read again while the server runs, a member taken
// out is refused at once, a member added is accepted, and a request
// accepted before the change cannot be replayed after it, although every
// member's place in the verifier's list has moved.
func TestVerifySetTeams(t *testing.T) {
	f := newSigFixture(t)
	before := sign(t, f.alice, f.now, "GET", ItemsPath, "", nil)
	if _, err := f.verify(before); err != nil {
		t.Fatal(err)
	}
	bobBefore := sign(t, f.bob, f.now, "GET", ItemsPath, "", nil)

	// Mallory joins ahead of Alice on both routes; Bob leaves.
	team := func(ms ...*vault.Member) *vault.Team {
		var lines []string
		for _, m := range ms {
			lines = append(lines, m.TeamLine())
		}
		tm, err := vault.ParseTeam(strings.NewReader(strings.Join(lines, "\n")))
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	f.v.SetTeams(map[string]*vault.Team{
		"students": team(f.mallory, f.alice),
		"staff":    team(f.mallory),
	})

	_, err := f.verify(before)
	wantReason(t, err, ReasonReplay)
	_, err = f.verify(bobBefore)
	wantReason(t, err, ReasonUnknownMember)
	m, err := f.verify(sign(t, f.mallory, f.now, "GET", ItemsPath, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "Mallory" || strings.Join(m.Routes, ",") != "staff,students" {
		t.Errorf("the new member is %q on %v", m.Name, m.Routes)
	}
	m, err = f.verify(sign(t, f.alice, f.now, "GET", ItemsPath, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(m.Routes, ",") != "students" {
		t.Errorf("Alice, taken off the staff route, has %v", m.Routes)
	}
}

// Requests verified while the teams are replaced see one list or the
// other, whole (run with -race).
func TestVerifySetTeamsConcurrent(t *testing.T) {
	f := newSigFixture(t)
	reqs := make([]signed, 200)
	for i := range reqs {
		reqs[i] = sign(t, f.alice, f.now, "GET", ItemsPath, "", nil)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 50 {
			f.v.SetTeams(f.teams)
		}
	})
	for i := range 4 {
		wg.Go(func() {
			for _, r := range reqs[i*50 : (i+1)*50] {
				if _, err := f.verify(r); err != nil {
					t.Errorf("Alice, in every version of the teams, was refused: %v", UnauthorizedReason(err))
				}
			}
		})
	}
	wg.Wait()
}
