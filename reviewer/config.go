package reviewer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/hearken-project/hearken/vault"
)

// Config is STORE/config.toml: what reviewer init remembers so a team
// member can simply run reviewer sync.
type Config struct {
	Server string `toml:"server"`
	Proxy  string `toml:"proxy,omitempty"`
}

const (
	configFile  = "config.toml"
	teamFile    = "team.txt" // a team given before any route was known
	teamsDir    = "teams"    // teams/ROUTE.txt
	maxTeamFile = 1 << 20
)

// routeName is the intake server's rule for route names.
var routeName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// LoadConfig reads STORE/config.toml; a missing file is an empty config.
func LoadConfig(dir string) (Config, error) {
	var c Config
	data, err := os.ReadFile(filepath.Join(dir, configFile))
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("failed to read settings: %w", err)
	}
	if _, err := toml.Decode(string(data), &c); err != nil {
		return c, fmt.Errorf("the settings file %s is not valid; fix or remove it and run reviewer init again", filepath.Join(dir, configFile))
	}
	return c, nil
}

// SaveConfig writes STORE/config.toml, replacing it atomically.
func SaveConfig(dir string, c Config) error {
	var b bytes.Buffer
	b.WriteString("# Written by reviewer init. Server and proxy for reviewer sync.\n")
	if err := toml.NewEncoder(&b).Encode(c); err != nil {
		return err
	}
	return writeReplace(filepath.Join(dir, configFile), b.Bytes(), 0o600)
}

func writeReplace(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

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

// InstallTeam validates a team file and keeps a copy in the store folder
// for route; with route "", for the one route of routes (the routes of the
// cases here), or, when there are none yet, as the team of the first route
// to arrive. It returns the route the team was recorded for ("" if not yet
// known). Replies are sealed to the team read from this copy, never to
// anything the server says.
func InstallTeam(dir, src, route string, routes []string) (*vault.Team, string, error) {
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

// TeamFor returns the team a reply on route is sealed to. routes are the
// routes of the cases on this computer.
func TeamFor(dir, route string, routes []string) (*vault.Team, error) {
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
	return nil, fmt.Errorf("%w on this computer (route %s), so reviewer cannot tell who may read this reply: run reviewer init --team FILE --route %s with that route's team file from the person who runs Hearken", ErrNoTeam, route, route)
}
