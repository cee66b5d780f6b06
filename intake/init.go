package intake

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hearken-project/hearken/deploy"
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

// staffOnionLine is example.toml's commented staff_onion_dir setting,
// which init turns on when given --staff-onion-dir.
const staffOnionLine = `# staff_onion_dir = "/var/lib/tor/hearken-staff/"`

// installation is what install lays out.
type installation struct {
	Teams string // the teams folder
	Torrc string // the torrc written beside the config, or "" if one was there
	// Staff is the staff onion's first sync, if --staff-onion-dir was given.
	Staff *authSync
}

// install lays out a new installation: the example config at configPath,
// a team file for each of its routes in a teams folder beside it, a torrc
// beside it for the installation's paths, and an empty store in dataDir.
// With staffDir, the config names it as staff_onion_dir, the torrc's staff
// onion service uses it, and it is made with its authorized_clients folder
// (holding the nobody key until members are added). It never overwrites
// anything that is already there: an existing config gives vault.ErrExists.
func install(configPath, dataDir, staffDir string) (*installation, error) {
	if _, err := os.Stat(configPath); err == nil {
		return nil, fmt.Errorf("%s: %w", configPath, vault.ErrExists)
	}
	absData, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	if staffDir != "" {
		if !filepath.IsAbs(staffDir) || strings.ContainsAny(staffDir, "\"\\\n\r\t ") {
			return nil, errors.New("--staff-onion-dir must be an absolute path without spaces or quotes, like /var/lib/tor/hearken-staff/")
		}
		staffDir = filepath.Clean(staffDir) + "/"
	}
	inst, err := installFiles(configPath, absData, staffDir)
	if err != nil {
		return nil, err
	}
	if staffDir != "" {
		if inst.Staff, err = syncAuthorizedClients(staffDir, nil); err != nil {
			return nil, err
		}
	}
	return inst, nil
}

func installFiles(configPath, dataDir, staffDir string) (*installation, error) {
	teams, err := installTeams(configPath)
	if err != nil {
		return nil, err
	}
	inst := &installation{Teams: teams}
	torrc := filepath.Join(filepath.Dir(configPath), "torrc")
	err = vault.WriteNewFile(torrc, []byte(torrcFor(dataDir, staffDir)), 0o644)
	switch {
	case err == nil:
		inst.Torrc = torrc
	case !errors.Is(err, vault.ErrExists):
		return nil, fmt.Errorf("%s: %w", torrc, err)
	}
	cfg := exampleConfig
	if staffDir != "" {
		cfg = []byte(strings.Replace(string(cfg), staffOnionLine, fmt.Sprintf("staff_onion_dir = %q", staffDir), 1))
	}
	if err := vault.WriteNewFile(configPath, cfg, 0o640); err != nil {
		return nil, fmt.Errorf("%s: %w", configPath, err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create data directory: %w", err)
	}
	store, err := vault.OpenStore(filepath.Join(dataDir, storeFile), nil)
	if err != nil {
		return nil, err
	}
	if err := store.Close(); err != nil {
		return nil, err
	}
	return inst, nil
}

// torrcFor returns deploy/torrc with the installation's paths. Without a
// staff onion folder, the staff service's lines are commented out: tor
// would otherwise run it with an empty authorized_clients, which tor takes
// to mean "open to everyone".
func torrcFor(dataDir, staffDir string) string {
	s := strings.ReplaceAll(deploy.Torrc, deploy.TorrcDataDir, strings.TrimSuffix(dataDir, "/")+"/")
	if staffDir != "" {
		return strings.ReplaceAll(s, deploy.TorrcStaffOnionDir, staffDir)
	}
	public, staff, ok := strings.Cut(s, deploy.TorrcStaffMarker)
	if !ok {
		return s
	}
	lines := strings.Split(deploy.TorrcStaffMarker+staff, "\n")
	for i, l := range lines {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines[i] = "#" + l
		}
	}
	note := "## Not in use: intake init ran without --staff-onion-dir. Set staff_onion_dir\n" +
		"## in the intake config, run intake check as root, then uncomment these lines.\n"
	return public + strings.Replace(strings.Join(lines, "\n"), "\n", "\n"+note, 1)
}

// installTeams writes a team file for each of the example config's routes
// in a teams folder beside configPath, leaving any already there.
func installTeams(configPath string) (string, error) {
	teams := filepath.Join(filepath.Dir(configPath), "teams")
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
	return teams, nil
}
