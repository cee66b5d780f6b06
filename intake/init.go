package intake

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
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

// Init lays out a new installation: the example config at configPath, a
// team file for each of its routes, and an empty store in dataDir. It
// never overwrites anything that is already there.
func Init(configPath, dataDir string, out io.Writer) error {
	if _, err := os.Stat(configPath); err == nil {
		return fmt.Errorf("%s already exists; it will not be overwritten", configPath)
	}
	dir := filepath.Dir(configPath)
	teams := filepath.Join(dir, "teams")
	if err := os.MkdirAll(teams, 0o750); err != nil {
		return fmt.Errorf("failed to create %s: %w", teams, err)
	}
	for _, route := range []string{"safeguarding", "head"} {
		p := filepath.Join(teams, route+".txt")
		err := vault.WriteNewFile(p, fmt.Appendf(nil, teamTemplate, route), 0o640)
		if err != nil && !errors.Is(err, vault.ErrExists) {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	if err := vault.WriteNewFile(configPath, exampleConfig, 0o640); err != nil {
		return fmt.Errorf("%s: %w", configPath, err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("failed to create data directory: %w", err)
	}
	store, err := vault.OpenStore(filepath.Join(dataDir, StoreFile), nil)
	if err != nil {
		return err
	}
	if err := store.Close(); err != nil {
		return err
	}
	fmt.Fprintf(out, `Wrote %s and team files in %s; the store is in %s.
Next:
  1. Edit %s: the school's name, languages, emergency numbers, routes.
  2. Ask each safeguarding lead to run "reviewer keygen" on their own computer
     and send you the line in their member.pub. Put the lines in the team files.
  3. Check everything:  intake check --config %s
  4. Start the server:  intake serve --config %s --data %s
`, configPath, teams, dataDir, configPath, configPath, configPath, dataDir)
	return nil
}
