package cases

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

const (
	teamFile    = "team.txt" // a team given before any route was known
	teamsDir    = "teams"    // teams/ROUTE.txt
	maxTeamFile = 1 << 20
)

// routeName is the intake server's rule for route names.
var routeName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// ValidRoute reports whether name is a route name as the intake server's
// config allows: 1 to 32 lower-case letters, digits and hyphens.
func ValidRoute(name string) bool { return routeName.MatchString(name) }

// Team files. A team file installed for a route (reviewer init --team FILE
// --route ROUTE) is STORE/teams/ROUTE.txt and serves that route only. One
// installed without --route is recorded for the route of this computer's
// cases when they all share one route; before the first sync it is kept as
// STORE/team.txt and serves a route only while every case here is of that
// route. A reply on any other route is refused rather than sealed to a team
// that may not be its own (a head-of-school route exists because the usual
// team may be the people a concern is about).

// ErrNoTeam means no team file is recorded for a reply's route.
var ErrNoTeam = errors.New("no team is recorded for this route")

// InstallTeam validates the team file src and keeps a copy in the store
// folder dir for route; with route "", for the one route of the cases here,
// or, when there are none yet, as the team of the first route to arrive. It
// returns the route the team was recorded for ("" if not yet known).
// Replies are sealed to the team read from this copy, never to anything the
// server says. It needs no identity: routes are kept in the clear.
func InstallTeam(dir, src, route string) (*vault.Team, string, error) {
	routes, err := storeRoutes(dir)
	if err != nil {
		return nil, "", err
	}
	return installTeam(dir, src, route, routes)
}

// installTeam is InstallTeam given routes, the routes of the cases here.
func installTeam(dir, src, route string, routes []string) (*vault.Team, string, error) {
	if route != "" && !routeName.MatchString(route) {
		return nil, "", errors.New("a route name is 1 to 32 lower-case letters, digits and hyphens, as in the intake server's config")
	}
	if route == "" && len(routes) > 1 {
		return nil, "", fmt.Errorf("this computer has cases from more than one route (%s), so say which route this team file is for: reviewer init --team FILE --route ROUTE", strings.Join(routes, ", "))
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, "", fmt.Errorf("failed to open the team file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTeamFile+1))
	if err != nil {
		return nil, "", fmt.Errorf("failed to read the team file: %w", err)
	}
	if len(data) > maxTeamFile {
		return nil, "", errors.New("the team file is too large")
	}
	t, err := vault.ParseTeam(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("the team file %s: %w", src, err)
	}
	if route == "" && len(routes) == 1 {
		route = routes[0]
	}
	dst := filepath.Join(dir, teamFile)
	if route != "" {
		dst = filepath.Join(dir, teamsDir, route+".txt")
	}
	if err := writeReplace(dst, data, 0o600); err != nil {
		return nil, "", err
	}
	return t, route, nil
}

// TeamFor returns the team a reply on route is sealed to: the team file
// recorded for route, or one recorded without a route while every case here
// is of route. With none it is ErrNoTeam.
func (s *Store) TeamFor(route string) (*vault.Team, error) {
	dir := filepath.Dir(s.path)
	if routeName.MatchString(route) {
		// The route's own file needs no look at the other cases.
		if _, err := os.Stat(filepath.Join(dir, teamsDir, route+".txt")); err == nil {
			return teamFor(dir, route, nil)
		}
	}
	routes, err := routesOf(s.db)
	if err != nil {
		return nil, err
	}
	return teamFor(dir, route, routes)
}

// teamFor is TeamFor for the store folder dir, given routes, the routes of
// the cases there.
func teamFor(dir, route string, routes []string) (*vault.Team, error) {
	if !routeName.MatchString(route) {
		return nil, fmt.Errorf("%w: the case's route is not a valid route name", ErrNoTeam)
	}
	p := filepath.Join(dir, teamsDir, route+".txt")
	if _, err := os.Stat(p); err == nil {
		return vault.LoadTeam(p)
	}
	p = filepath.Join(dir, teamFile)
	if _, err := os.Stat(p); err == nil && len(routes) == 1 && routes[0] == route {
		return vault.LoadTeam(p)
	}
	return nil, fmt.Errorf("%w on this computer (route %s)", ErrNoTeam, route)
}

// routesOf returns the routes of every case in db, sorted.
func routesOf(db *bolt.DB) ([]string, error) {
	seen := map[string]bool{}
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bThreads)
		if b == nil {
			return corruptStore(db.Path(), "")
		}
		return b.ForEach(func(k, v []byte) error {
			var c caseRec
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("%w: an unreadable record", ErrStoreCorrupt)
			}
			seen[c.Route] = true
			return nil
		})
	})
	routes := make([]string, 0, len(seen))
	for r := range seen {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	return routes, err
}

// storeRoutes returns the routes of the cases in dir's store without
// unlocking it (no identity is needed: routes are kept in the clear). A
// missing store has no routes.
func storeRoutes(dir string) (routes []string, err error) {
	path := storePath(dir)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	defer func() {
		if r := recover(); r != nil {
			routes, err = nil, corruptStore(path, "")
		}
	}()
	db, err := openFile(path, true)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return routesOf(db)
}

// teamSet holds the team files that one sync checks team items against,
// each read once. load is called before the checks start; get is safe for
// the checks running at once.
type teamSet struct {
	s      *Store
	mu     sync.Mutex
	teams  map[string]*vault.Team
	routes []string
	read   bool
}

func newTeamSet(s *Store) *teamSet { return &teamSet{s: s, teams: map[string]*vault.Team{}} }

func (t *teamSet) load(route string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.teams[route]; ok {
		return
	}
	if !t.read {
		t.routes, _ = routesOf(t.s.db)
		t.read = true
	}
	routes := t.routes
	if !slices.Contains(routes, route) {
		// A route's first case arrives in this page: a team file given
		// without a route serves it when it will be the only route.
		routes = append(slices.Clone(routes), route)
		slices.Sort(routes)
	}
	team, err := teamFor(filepath.Dir(t.s.path), route, routes)
	if err != nil {
		team = nil
	}
	t.teams[route] = team
}

func (t *teamSet) get(route string) *vault.Team {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.teams[route]
}
