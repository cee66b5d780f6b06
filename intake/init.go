package intake

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hearken-project/hearken/vault"
)

// exampleConfig is the commented configuration `intake init` writes.
//
//go:embed example.toml
var exampleConfig []byte

// teamTemplate starts each team file `intake init` writes: comments only,
// so `intake check` says what is missing until members are added.
const teamTemplate = `# Hearken team file for the route %q.
# One member a line, exactly as in their member.pub (made by reviewer keygen):
#   age1pq1...  ed25519:...  Their Name
# Reports on this route are sealed to every member listed here, and only
# these members can sync them.
`

// install lays out a new installation: the example config at configPath,
// a team file for each of its routes in a teams folder beside it, and an
// empty store in dataDir. It never overwrites anything that is already
// there: an existing config gives vault.ErrExists. It returns the teams
// folder.
func install(configPath, dataDir string) (teams string, err error) {
	if _, err := os.Stat(configPath); err == nil {
		return "", fmt.Errorf("%s: %w", configPath, vault.ErrExists)
	}
	teams = filepath.Join(filepath.Dir(configPath), "teams")
	if err := os.MkdirAll(teams, 0o750); err != nil {
		return "", fmt.Errorf("failed to create %s: %w", teams, err)
	}
	for _, name := range []string{"safeguarding", "head"} {
		p := filepath.Join(teams, name+".txt")
		err := vault.WriteNewFile(p, fmt.Appendf(nil, teamTemplate, name), 0o640)
		if err != nil && !errors.Is(err, vault.ErrExists) {
			return "", fmt.Errorf("%s: %w", p, err)
		}
	}
	if err := vault.WriteNewFile(configPath, exampleConfig, 0o640); err != nil {
		return "", fmt.Errorf("%s: %w", configPath, err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("failed to create data directory: %w", err)
	}
	store, err := vault.OpenStore(filepath.Join(dataDir, storeFile), nil)
	if err != nil {
		return "", err
	}
	if err := store.Close(); err != nil {
		return "", err
	}
	return teams, nil
}
