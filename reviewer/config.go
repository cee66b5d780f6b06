package reviewer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

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
	teamFile    = "team.txt" // the team for every route without its own
	teamsDir    = "teams"    // teams/ROUTE.txt
	maxTeamFile = 1 << 20
)

var routeName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

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

// InstallTeam validates a team file and keeps a copy in the store folder,
// for all routes or for one. Replies are sealed to the team read from this
// copy, never to anything the server says.
func InstallTeam(dir, src, route string) (*vault.Team, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, fmt.Errorf("failed to open the team file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTeamFile+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read the team file: %w", err)
	}
	if len(data) > maxTeamFile {
		return nil, errors.New("the team file is too large")
	}
	t, err := vault.ParseTeam(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("the team file %s: %w", src, err)
	}
	dst := filepath.Join(dir, teamFile)
	if route != "" {
		if !routeName.MatchString(route) {
			return nil, errors.New("a route name is lower-case letters, digits, - and _")
		}
		dst = filepath.Join(dir, teamsDir, route+".txt")
	}
	if err := writeReplace(dst, data, 0o600); err != nil {
		return nil, err
	}
	return t, nil
}

// TeamFor returns the team replies on route are sealed to.
func TeamFor(dir, route string) (*vault.Team, error) {
	if routeName.MatchString(route) {
		p := filepath.Join(dir, teamsDir, route+".txt")
		if _, err := os.Stat(p); err == nil {
			return vault.LoadTeam(p)
		}
	}
	p := filepath.Join(dir, teamFile)
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil, errors.New("reviewer does not have your team file yet, so it cannot seal a reply to your colleagues: run reviewer init --team team.txt with the team file from the person who runs Hearken")
	}
	return vault.LoadTeam(p)
}
