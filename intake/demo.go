package intake

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hearken-project/hearken/vault"
)

// Files of the throwaway demo team, in DATA/demo.
const (
	demoDir            = "demo"
	demoIdentityFile   = "member.identity"
	demoPassphraseFile = "passphrase.txt"
	demoTeamFile       = "team.txt"
)

// errDemoIncomplete means a demo team was left half made.
var errDemoIncomplete = errors.New("the demo team is incomplete")

// demoConfig returns a config for trying Hearken out with a throwaway team
// kept in dataDir/demo. The first call creates the team; later calls reuse
// it. created reports whether it was made now.
func demoConfig(dataDir string) (cfg *config, created bool, err error) {
	dir := filepath.Join(dataDir, demoDir)
	teamPath := filepath.Join(dir, demoTeamFile)
	if _, err := os.Stat(teamPath); errors.Is(err, os.ErrNotExist) {
		if err := createDemoTeam(dir); err != nil {
			return nil, false, err
		}
		created = true
	}
	team, err := vault.LoadTeam(teamPath)
	if err != nil {
		return nil, false, err
	}
	cfg = &config{
		School:          "Demo School",
		DefaultLanguage: "en",
		Languages:       localeCodes(),
		// A list in every language the demo serves, as intake init writes.
		Emergency: map[string][]contact{
			"en": {
				{Name: "Police and ambulance", Phone: "999"},
				{Name: "Childline, free and any time", Phone: "0800 1111"},
			},
			"es": {
				{Name: "Policía y ambulancia", Phone: "999"},
				{Name: "Childline, gratis y a cualquier hora", Phone: "0800 1111"},
			},
			"fr": {
				{Name: "Police et ambulance", Phone: "999"},
				{Name: "Childline, gratuit, à toute heure", Phone: "0800 1111"},
			},
			"ar": {
				{Name: "الشرطة والإسعاف", Phone: "999"},
				{Name: "Childline، مجانًا وفي أي وقت", Phone: "0800 1111"},
			},
			"zh": {
				{Name: "警察和救护车", Phone: "999"},
				{Name: "Childline，免费，随时可打", Phone: "0800 1111"},
			},
		},
		Routes: []route{{
			Name:     "safeguarding",
			Labels:   map[string]string{"en": "The safeguarding team"},
			TeamFile: teamPath,
			Team:     team,
			teamPath: teamPath,
		}},
	}
	// English first, then the rest in code order.
	cfg.Languages = append([]string{"en"}, without(cfg.Languages, "en")...)
	cfg.demoAlerts = true
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, false, err
	}
	return cfg, created, nil
}

func without(list []string, drop string) []string {
	var out []string
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

func createDemoTeam(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("failed to create demo directory: %w", err)
	}
	idPath := filepath.Join(dir, demoIdentityFile)
	if _, err := os.Stat(idPath); err == nil {
		return fmt.Errorf("%w: %s has no %s", errDemoIncomplete, dir, demoTeamFile)
	}
	m, err := vault.GenerateMember("Demo Lead")
	if err != nil {
		return err
	}
	var raw [18]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return fmt.Errorf("failed to read randomness: %w", err)
	}
	passphrase := base64.RawURLEncoding.EncodeToString(raw[:])
	if err := vault.WriteNewFile(filepath.Join(dir, demoPassphraseFile), []byte(passphrase+"\n"), 0o600); err != nil {
		return err
	}
	if err := vault.SaveMember(idPath, m, passphrase); err != nil {
		return err
	}
	// The team file is written last: its presence means the demo is whole.
	line := "# Demo team: a throwaway key made by `intake serve --demo`.\n" + m.TeamLine() + "\n"
	return vault.WriteNewFile(filepath.Join(dir, demoTeamFile), []byte(line), 0o644)
}

// writeDemoBanner tells the person running a demo what it is and what to do
// next.
func writeDemoBanner(w io.Writer, dataDir, listen string, created bool) {
	dir := filepath.Join(dataDir, demoDir)
	url := "http://" + listen + "/"
	if len(listen) > 5 && listen[:5] == "unix:" {
		url = "the socket " + listen[5:]
	}
	state := "Reusing the demo team in " + dir
	if created {
		state = "Created a throwaway demo team in " + dir
	}
	fmt.Fprintf(w, `
==================================================================
  DEMO MODE - NOT FOR REAL REPORTS
  %s.
  Its key and passphrase are stored there in the clear: anyone who
  can read %s can read every report sent to this demo.
==================================================================
  Next:
  1. Open %s in a browser.
  2. Tell us something made up, and keep the code you are given.
  3. Use "Check a code" to see that the code works.
  4. Read the report with the team's tool (reviewer), using
     %s
     and the passphrase in %s; see the README.
==================================================================

`, state, dir, url, filepath.Join(dir, demoIdentityFile), filepath.Join(dir, demoPassphraseFile))
}
