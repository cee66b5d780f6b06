package intake

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"filippo.io/age"
	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// The teams can change while the server runs: on SIGHUP (systemctl reload,
// which intake check --apply runs) it reads the config's team files again.
// It checks them all first and keeps the teams it has if any is wrong;
// otherwise it swaps in the new teams whole. A report seals to the teams
// it saw when its request arrived, so an upload under way when the teams
// change finishes with the team it started with.

// teamSet is every route's team as read from the team files at one moment.
// It is never changed once made: a reload makes a new one.
type teamSet struct {
	byRoute map[string]*vault.Team
}

func newTeamSet(byRoute map[string]*vault.Team) *teamSet {
	return &teamSet{byRoute: byRoute}
}

// recipients are who a report or follow-up on route is sealed to.
func (ts *teamSet) recipients(route string) []age.Recipient {
	if t := ts.byRoute[route]; t != nil {
		return t.Recipients()
	}
	return nil
}

// keys lists the signing keys of route's team, as acknowledgements
// record them.
func (ts *teamSet) keys(route string) []string { return teamKeys(ts.byRoute)(route) }

// members counts the distinct members of every team.
func (ts *teamSet) members() int {
	seen := map[string]bool{}
	for _, t := range ts.byRoute {
		if t == nil {
			continue
		}
		for _, m := range t.Members {
			seen[string(m.SignKey)] = true
		}
	}
	return len(seen)
}

// liveTeams holds the teams the server uses now, shared by the public site
// and the staff channel.
type liveTeams struct {
	p atomic.Pointer[teamSet]
}

func newLiveTeams(ts *teamSet) *liveTeams {
	l := &liveTeams{}
	l.p.Store(ts)
	return l
}

func (l *liveTeams) load() *teamSet { return l.p.Load() }

// readTeams reads every route's team file again and checks each as the
// config's loading does. It returns every problem, or teams that are all
// good; never some of each.
func readTeams(cfg *config) (*teamSet, error) {
	teams := map[string]*vault.Team{}
	var problems []string
	for i := range cfg.Routes {
		rt := &cfg.Routes[i]
		// ParseTeam refuses a file with no members, as the config's
		// loading does.
		team, err := rt.readTeam()
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		teams[rt.Name] = team
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return newTeamSet(teams), nil
}

// teamReload is what a reload changes besides the live teams.
type teamReload struct {
	cfg      *config
	live     *liveTeams
	verifier *staff.Verifier // the staff channel's; nil without one
	store    *vault.Store
	// drained asks for the store to be rewritten soon: members who left
	// may have been all that a route's queue waited for.
	drained func()
	log     zerolog.Logger
}

// reload reads the team files again. If any is wrong it logs why (the
// file and line, never key material) and keeps the teams the server has.
// Otherwise the new teams take over at once: reports arriving from now on
// are sealed to them, the staff channel admits their members only (a member
// taken out is refused from this moment), and the queues follow them as
// they do at start-up. It reports whether the new teams took over.
func (r *teamReload) reload() bool {
	if r.cfg.Path != "" {
		if data, err := os.ReadFile(r.cfg.Path); err == nil && sha256.Sum256(data) != r.cfg.digest {
			r.log.Warn().Msg("the config file has changed since the server started; a reload reads only the team files, so restart the service to apply the rest (systemctl restart hearken-intake)")
		}
	}
	ts, err := readTeams(r.cfg)
	if err != nil {
		r.log.Error().Err(err).Msg("team files not reloaded: the server keeps the teams it had; correct the file and reload again")
		return false
	}
	r.live.p.Store(ts)
	if r.verifier != nil {
		r.verifier.SetTeams(ts.byRoute)
	}
	// After both swaps: an acknowledgement counted against the old team in
	// between is put right here.
	joined, left, err := r.store.Requeue(ts.keys)
	if err != nil {
		r.log.Error().Err(err).Msg("the staff queues could not follow the team files; members who joined get only new items until the next reload or start")
	}
	if left > 0 && r.drained != nil {
		r.drained()
	}
	routes, members := len(ts.byRoute), ts.members()
	r.log.Info().Int("routes", routes).Int("members", members).Int("joined", joined).Int("left", left).
		Msg(fmt.Sprintf("team files reloaded: %d %s, %d %s", routes, plural(routes, "route", "routes"), members, plural(members, "member", "members")))
	return true
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
