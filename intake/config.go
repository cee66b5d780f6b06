package intake

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/hearken-project/hearken/vault"
)

// Defaults used when the config file leaves a setting out.
const (
	defaultRetentionDays        = 90
	defaultQuickExitURL         = "https://www.bbc.co.uk/weather"
	defaultMaxConcurrent        = 8
	defaultSubmissionsPerMinute = 30
	defaultBackupKeep           = 7
)

// config is the deployment's configuration, read from a TOML file.
type config struct {
	School          string               `toml:"school"`
	DefaultLanguage string               `toml:"default_language"`
	Languages       []string             `toml:"languages"`
	Emergency       map[string][]contact `toml:"emergency"`
	Routes          []route              `toml:"routes"`
	RetentionDays   int                  `toml:"retention_days"`
	Limits          limits               `toml:"limits"`
	QuickExitURL    string               `toml:"quick_exit_url"`
	OnionAddress    string               `toml:"onion_address"`
	// StaffOnionDir is the staff onion service's HiddenServiceDir. With it,
	// intake check and init write each team member's onion key into its
	// authorized_clients folder (staffonion.go). serve does not use it.
	StaffOnionDir string `toml:"staff_onion_dir"`
	// PurgeAcknowledged deletes sealed reports and follow-ups from the
	// server once every team member has synced them.
	PurgeAcknowledged bool `toml:"purge_acknowledged"`
	// BackupDir, if set, receives a verified backup of the store once a
	// day while the server runs; BackupKeep are kept (default 7).
	BackupDir  string `toml:"backup_dir"`
	BackupKeep int    `toml:"backup_keep"`
	// Alerts, if set, tell the team at once of a danger report and, at
	// most once per window, of other activity (see alerts.go).
	Alerts *alertsConfig `toml:"alerts"`
	// TeamHours says, per language, when the team reads messages; the
	// receipt of a danger report shows it.
	TeamHours map[string]string `toml:"team_hours"`
	// TLS, if set, serves the site over HTTPS on the clear web.
	TLS *tlsSettings `toml:"tls"`

	// Path is the file the config was loaded from, if any, and digest its
	// SHA-256 then: a reload reads only the team files, and says so if the
	// config itself has changed.
	Path   string `toml:"-"`
	digest [sha256.Size]byte

	// demoAlerts writes alerts to the log: serve --demo has nobody to mail.
	demoAlerts bool
}

// contact is one emergency contact shown on every page.
type contact struct {
	Name  string `toml:"name"`
	Phone string `toml:"phone"`
	URL   string `toml:"url"`
}

// route is one destination for reports: a name and the team that can read them.
type route struct {
	Name     string            `toml:"name"`
	Labels   map[string]string `toml:"labels"`
	TeamFile string            `toml:"team"`
	// To and Webhook, if either is set, are the only ones alerted about
	// this route; otherwise [alerts] to and webhook are.
	To      []string `toml:"to"`
	Webhook string   `toml:"webhook"`

	// Team is loaded from TeamFile (relative to the config file) with the
	// config. The server seals with the teams it holds now (liveTeams),
	// which a reload replaces; this stays as the config was loaded.
	Team *vault.Team `toml:"-"`
	// teamPath is TeamFile made absolute, where a reload reads it again.
	teamPath string
}

// limits bounds the work the public site accepts.
type limits struct {
	MaxConcurrentSubmissions int `toml:"max_concurrent_submissions"`
	SubmissionsPerMinute     int `toml:"submissions_per_minute"`
}

// configError lists every problem found in a config, so an operator can fix
// them all in one go.
type configError struct {
	Problems []string
}

func (e *configError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid config: " + e.Problems[0]
	}
	return "invalid config:\n  " + strings.Join(e.Problems, "\n  ")
}

// loadConfig reads and checks a config file and the team files it names.
func loadConfig(path string) (*config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read config: %w", err)
	}
	cfg := &config{}
	md, err := toml.Decode(string(data), cfg)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, fmt.Errorf("invalid config %s: line %d: %s", path, perr.Position.Line, perr.Message)
		}
		return nil, fmt.Errorf("invalid config %s: %w", path, err)
	}
	cfg.Path = path
	var problems []string
	for _, k := range md.Undecoded() {
		problems = append(problems, fmt.Sprintf("unknown setting %q", k.String()))
	}
	cfg.digest = sha256.Sum256(data)
	dir := filepath.Dir(path)
	for i := range cfg.Routes {
		rt := &cfg.Routes[i]
		if rt.TeamFile == "" {
			continue // reported by validate
		}
		rt.teamPath = rt.TeamFile
		if !filepath.IsAbs(rt.teamPath) {
			rt.teamPath = filepath.Join(dir, rt.teamPath)
		}
		team, err := rt.readTeam()
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		rt.Team = team
	}
	problems = append(problems, cfg.loadAlerts(dir)...)
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		var cerr *configError
		if errors.As(err, &cerr) {
			problems = append(problems, cerr.Problems...)
		} else {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return nil, &configError{Problems: problems}
	}
	return cfg, nil
}

func (c *config) applyDefaults() {
	if c.School == "" {
		c.School = "our school"
	}
	if c.DefaultLanguage == "" {
		c.DefaultLanguage = "en"
	}
	if len(c.Languages) == 0 {
		c.Languages = []string{c.DefaultLanguage}
	}
	if c.RetentionDays == 0 {
		c.RetentionDays = defaultRetentionDays
	}
	if c.QuickExitURL == "" {
		c.QuickExitURL = defaultQuickExitURL
	}
	if c.BackupKeep == 0 {
		c.BackupKeep = defaultBackupKeep
	}
	if c.BackupDir != "" && !filepath.IsAbs(c.BackupDir) && c.Path != "" {
		c.BackupDir = filepath.Join(filepath.Dir(c.Path), c.BackupDir)
	}
	if c.Limits.MaxConcurrentSubmissions == 0 {
		c.Limits.MaxConcurrentSubmissions = defaultMaxConcurrent
	}
	if c.OnionAddress != "" {
		c.OnionAddress = strings.ToLower(strings.TrimSuffix(c.OnionAddress, "/"))
		if !strings.HasSuffix(c.OnionAddress, ".onion") {
			c.OnionAddress += ".onion"
		}
	}
	if c.Limits.SubmissionsPerMinute == 0 {
		c.Limits.SubmissionsPerMinute = defaultSubmissionsPerMinute
	}
	if c.TLS != nil {
		c.TLS.applyDefaults(c.Path)
	}
}

// validate checks a config whose defaults have been applied and whose teams
// have been loaded.
func (c *config) validate() error {
	var p []string
	if !hasLocale(c.DefaultLanguage) {
		p = append(p, fmt.Sprintf("default_language %q is not available (have %s)", c.DefaultLanguage, strings.Join(localeCodes(), ", ")))
	}
	seenLang := map[string]bool{}
	for _, l := range c.Languages {
		if !hasLocale(l) {
			p = append(p, fmt.Sprintf("languages: %q is not available (have %s)", l, strings.Join(localeCodes(), ", ")))
		}
		if seenLang[l] {
			p = append(p, fmt.Sprintf("languages: %q is listed twice", l))
		}
		seenLang[l] = true
	}
	if !seenLang[c.DefaultLanguage] {
		p = append(p, fmt.Sprintf("default_language %q must also be in languages", c.DefaultLanguage))
	}
	if len(c.Emergency[c.DefaultLanguage]) == 0 {
		p = append(p, fmt.Sprintf("emergency: no contacts for the default language %q (every page shows who to call if someone is in danger)", c.DefaultLanguage))
	}
	for lang, contacts := range c.Emergency {
		if !seenLang[lang] {
			p = append(p, fmt.Sprintf("emergency.%s: language is not in languages", lang))
		}
		for i, ct := range contacts {
			if strings.TrimSpace(ct.Name) == "" || strings.TrimSpace(ct.Phone) == "" {
				p = append(p, fmt.Sprintf("emergency.%s[%d]: name and phone are required", lang, i+1))
			}
			if ct.Phone != "" && telURI(ct.Phone) == "" {
				p = append(p, fmt.Sprintf("emergency.%s[%d]: phone %q has no digits", lang, i+1, ct.Phone))
			}
			if ct.URL != "" {
				if err := checkHTTPURL(ct.URL); err != nil {
					p = append(p, fmt.Sprintf("emergency.%s[%d]: url: %v", lang, i+1, err))
				}
			}
		}
	}
	if len(c.Routes) == 0 {
		p = append(p, "no routes: add at least one [[routes]] with a name and a team file")
	}
	seenRoute := map[string]bool{}
	for i, rt := range c.Routes {
		where := fmt.Sprintf("routes[%d]", i+1)
		if !validRouteName(rt.Name) {
			p = append(p, fmt.Sprintf("%s: name %q must be 1-32 lowercase letters, digits or hyphens", where, rt.Name))
		}
		if seenRoute[rt.Name] {
			p = append(p, fmt.Sprintf("%s: name %q is used twice", where, rt.Name))
		}
		seenRoute[rt.Name] = true
		if rt.TeamFile == "" {
			p = append(p, fmt.Sprintf("%s: team file is required", where))
		} else if rt.Team != nil && len(rt.Team.Members) == 0 {
			p = append(p, fmt.Sprintf("%s: team file %s has no members", where, rt.TeamFile))
		}
		if len(c.Routes) > 1 && rt.Labels[c.DefaultLanguage] == "" {
			p = append(p, fmt.Sprintf("%s: a label for the default language %q is required when there is more than one route", where, c.DefaultLanguage))
		}
	}
	if c.RetentionDays < 1 {
		p = append(p, "retention_days must be at least 1")
	}
	if c.BackupKeep < 1 {
		p = append(p, "backup_keep must be at least 1")
	}
	if c.Limits.MaxConcurrentSubmissions < 1 {
		p = append(p, "limits.max_concurrent_submissions must be at least 1")
	}
	if c.Limits.SubmissionsPerMinute < 1 {
		p = append(p, "limits.submissions_per_minute must be at least 1")
	}
	if err := checkHTTPURL(c.QuickExitURL); err != nil {
		p = append(p, fmt.Sprintf("quick_exit_url: %v", err))
	}
	if c.OnionAddress != "" {
		h := strings.TrimSuffix(strings.ToLower(c.OnionAddress), ".onion")
		if len(h) != 56 || strings.Trim(h, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			p = append(p, "onion_address must be a v3 onion host name (56 base32 characters then .onion)")
		}
	}
	if c.StaffOnionDir != "" && !filepath.IsAbs(c.StaffOnionDir) {
		p = append(p, "staff_onion_dir must be an absolute path, as in the torrc's HiddenServiceDir")
	}
	p = append(p, c.validateAlerts()...)
	p = append(p, c.validateTeamHours()...)
	if c.TLS != nil {
		p = append(p, c.TLS.problems(c.OnionAddress, time.Now())...)
	}
	if len(p) > 0 {
		return &configError{Problems: p}
	}
	return nil
}

// routeByName returns the configured route with that name.
func (c *config) routeByName(name string) (*route, bool) {
	for i := range c.Routes {
		if c.Routes[i].Name == name {
			return &c.Routes[i], true
		}
	}
	return nil, false
}

func (c *config) languageEnabled(lang string) bool {
	return slices.Contains(c.Languages, lang)
}

// contacts returns the emergency contacts for lang, falling back to the
// default language so the danger line is never empty. fallback reports
// whether the contacts are the default language's; `intake check` warns
// about every language that needs it.
func (c *config) contacts(lang string) (cs []contact, fallback bool) {
	if cs := c.Emergency[lang]; len(cs) > 0 {
		return cs, false
	}
	return c.Emergency[c.DefaultLanguage], lang != c.DefaultLanguage
}

// warnings lists what is allowed in a config but probably a mistake.
func (c *config) warnings() []string {
	var w []string
	for _, lang := range c.Languages {
		if len(c.Emergency[lang]) > 0 {
			continue
		}
		name := lang
		if loc := locales[lang]; loc != nil {
			name = loc.Name
		}
		w = append(w, fmt.Sprintf("no emergency numbers for %s (%s): its pages show the %s list, in that language; add [[emergency.%s]]",
			lang, name, c.DefaultLanguage, lang))
	}
	return w
}

// readTeam reads the route's team file. Its errors name the route and the
// file as the config gives it, and the line, never key material.
func (rt *route) readTeam() (*vault.Team, error) {
	team, err := loadTeam(rt.teamPath)
	if err != nil {
		return nil, fmt.Errorf("route %q: team file %s: %w", rt.Name, rt.TeamFile, err)
	}
	return team, nil
}

// loadTeam reads a team file. vault.ParseTeam's errors name the line and
// never echo key material; it refuses a file over 1 MiB rather than read
// part of it.
func loadTeam(path string) (*vault.Team, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errors.New("file not found")
		}
		return nil, fmt.Errorf("failed to open: %w", err)
	}
	defer f.Close()
	return vault.ParseTeam(f)
}

func validRouteName(s string) bool {
	if len(s) < 1 || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return errors.New("must be an http:// or https:// address")
	}
	return nil
}

// telURI turns a phone number as written ("0800 1111") into a tel: URI, or
// "" if it has no digits.
func telURI(phone string) string {
	var b strings.Builder
	for i, r := range phone {
		if r >= '0' && r <= '9' || r == '+' && i == 0 {
			b.WriteRune(r)
		}
	}
	if strings.Trim(b.String(), "+") == "" {
		return ""
	}
	return "tel:" + b.String()
}

// teamsByRoute returns each route's team by its name.
func (c *config) teamsByRoute() map[string]*vault.Team {
	teams := map[string]*vault.Team{}
	for _, rt := range c.Routes {
		teams[rt.Name] = rt.Team
	}
	return teams
}

// teams returns every route's team.
func (c *config) teams() []*vault.Team {
	var ts []*vault.Team
	for _, rt := range c.Routes {
		ts = append(ts, rt.Team)
	}
	return ts
}

// summary describes a valid config for `intake check`.
func (c *config) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "config OK: %s\n", c.School)
	fmt.Fprintf(&b, "  languages: %s (default %s)\n", strings.Join(c.Languages, ", "), c.DefaultLanguage)
	for _, rt := range c.Routes {
		fmt.Fprintf(&b, "  route %s: %d team members in %s\n", rt.Name, len(rt.Team.Members), rt.TeamFile)
	}
	fmt.Fprintf(&b, "  retention: %d days\n", c.RetentionDays)
	if c.BackupDir != "" {
		fmt.Fprintf(&b, "  daily backups: %s (keeping %d)\n", c.BackupDir, c.BackupKeep)
	} else {
		fmt.Fprintf(&b, "  note: backup_dir is not set; run intake backup yourself while the server is stopped\n")
	}
	for _, line := range c.alertsSummary() {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	c.tlsSummary(&b)
	for _, w := range c.warnings() {
		fmt.Fprintf(&b, "  warning: %s\n", w)
	}
	for _, l := range c.Languages {
		if loc := locales[l]; loc != nil && !loc.Reviewed {
			fmt.Fprintf(&b, "  note: the %s text is machine-drafted and needs review by a native speaker\n", loc.Name)
		}
	}
	return b.String()
}
