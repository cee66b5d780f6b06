package intake

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(s)
	f.Close()
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	cfg, err := loadConfig(writeConfig(t, dir, ""))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RetentionDays != 90 || cfg.Limits.MaxConcurrentSubmissions != defaultMaxConcurrent ||
		cfg.Routes[0].Team == nil || len(cfg.Routes[0].Team.Members) != 1 {
		t.Errorf("defaults or team not applied: %+v", cfg)
	}
	if s := cfg.summary(); !strings.Contains(s, "machine-drafted") || !strings.Contains(s, "1 team members") {
		t.Errorf("summary:\n%s", s)
	}
}

func TestConfigProblems(t *testing.T) {
	for _, tc := range []struct {
		name, extra, want string
	}{
		{"unknown key", `colour = "red"`, `unknown setting "colour"`},
		{"bad language", `languages = ["en", "de"]`, `languages: "de" is not available`},
		{"bad quick exit", `quick_exit_url = "javascript:alert(1)"`, "quick_exit_url"},
		{"bad onion", `onion_address = "example.com"`, "onion_address"},
		{"negative retention", `retention_days = -1`, "retention_days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := writeConfig(t, dir, "")
			data, _ := os.ReadFile(p)
			// Put the extra setting at the top level, before any table.
			s := strings.Replace(string(data), "languages = [", "old_languages = [", 1)
			if !strings.HasPrefix(tc.extra, "languages") {
				s = string(data)
			}
			os.WriteFile(p, []byte(tc.extra+"\n"+s), 0o644)
			_, err := loadConfig(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestConfigBadTeamLine(t *testing.T) {
	dir := t.TempDir()
	p := writeConfig(t, dir, "")
	line := member(t).TeamLine()
	// Damage the recipient on line 3.
	bad := "# team\n" + line + "\n" + strings.Replace(line, "age1pq1", "age1pq1zz", 1) + "x\n"
	os.WriteFile(filepath.Join(dir, "team.txt"), []byte(bad), 0o644)
	_, err := loadConfig(p)
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v, want a line number", err)
	}
	for _, f := range strings.Fields(line)[:2] {
		if strings.Contains(err.Error(), f[len(f)-20:]) {
			t.Errorf("error echoes key material: %v", err)
		}
	}
}

// A team file over 1 MiB is refused by intake check, not cut short: the
// member after 1.1 MB of comments would silently get no reports.
func TestConfigTeamFileTooLong(t *testing.T) {
	dir := t.TempDir()
	p := writeConfig(t, dir, "")
	comments := strings.Repeat("# "+strings.Repeat("x", 98)+"\n", 11000)
	appendFile(t, filepath.Join(dir, "team.txt"), comments+member(t).TeamLine()+"\n")
	var stdout, stderr bytes.Buffer
	status := Main([]string{"check", "--config", p}, &stdout, &stderr)
	if status != 1 || !strings.Contains(stderr.String(), "longer than 1 MiB") {
		t.Fatalf("intake check = %d\nstdout:\n%s\nstderr:\n%s", status, stdout.String(), stderr.String())
	}
	t.Logf("the operator sees: %s", stderr.String())
}

func TestConfigMissingTeam(t *testing.T) {
	dir := t.TempDir()
	p := writeConfig(t, dir, "")
	os.Remove(filepath.Join(dir, "team.txt"))
	if _, err := loadConfig(p); err == nil || !strings.Contains(err.Error(), "team.txt") {
		t.Fatalf("err = %v", err)
	}
}

func TestExampleConfig(t *testing.T) {
	data := exampleConfig
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "teams"), 0o755)
	for _, f := range []string{"safeguarding.txt", "head.txt"} {
		os.WriteFile(filepath.Join(dir, "teams", f), []byte(member(t).TeamLine()+"\n"), 0o644)
	}
	p := filepath.Join(dir, "intake.toml")
	os.WriteFile(p, data, 0o644)
	cfg, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Routes) != 2 || len(cfg.Languages) != 5 {
		t.Errorf("example config: %d routes, %d languages", len(cfg.Routes), len(cfg.Languages))
	}
	// Every language intake init enables has its own emergency numbers.
	for _, lang := range cfg.Languages {
		if len(cfg.Emergency[lang]) == 0 {
			t.Errorf("example config: no emergency numbers for %s", lang)
		}
	}
	if w := cfg.warnings(); len(w) != 0 {
		t.Errorf("example config: warnings %q", w)
	}
}

// The demo serves every language, so it has emergency numbers in each.
func TestDemoEmergencyEveryLanguage(t *testing.T) {
	cfg, _, err := demoConfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range cfg.Languages {
		if len(cfg.Emergency[lang]) == 0 {
			t.Errorf("demo: no emergency numbers for %s", lang)
		}
	}
}

func TestWarningsNameLanguagesWithoutNumbers(t *testing.T) {
	e := newEnv(t, "")
	w := e.cfg.warnings()
	// The test config has lists for en and es only.
	for _, lang := range []string{"fr", "ar", "zh"} {
		if !slices.ContainsFunc(w, func(s string) bool { return strings.Contains(s, "numbers for "+lang+" ") }) {
			t.Errorf("no warning for %s in %q", lang, w)
		}
	}
	if len(w) != 3 {
		t.Errorf("warnings = %q, want one for each of fr, ar, zh", w)
	}
	if !strings.Contains(e.cfg.summary(), "warning: no emergency numbers for ar ") {
		t.Errorf("summary does not carry the warnings:\n%s", e.cfg.summary())
	}
}

// A config with several mistakes names every one of them, each where it
// is, so an operator fixes them all in one go; and a config that is not
// TOML names the line.
func TestConfigEveryProblem(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, "") // the team file
	p := filepath.Join(dir, "intake.toml")
	os.WriteFile(p, []byte(`school = "Hillside School"
default_language = "en"
languages = ["en", "es", "en"]
quick_exit_url = "ftp://example.org/"
staff_onion_dir = "tor/hearken-staff"

[[emergency.en]]
name = "Police"
phone = "call us"

[[emergency.en]]
name = ""
phone = "999"

[[emergency.es]]
name = "Policía"
phone = "112"
url = "javascript:alert(1)"
`), 0o644)
	_, err := loadConfig(p)
	if err == nil {
		t.Fatal("loaded")
	}
	for _, want := range []string{
		`languages: "en" is listed twice`,
		`quick_exit_url: `,
		`staff_onion_dir must be an absolute path`,
		`emergency.en[1]: phone "call us" has no digits`,
		`emergency.en[2]: name and phone are required`,
		`emergency.es[1]: url: `,
		`no routes: add at least one [[routes]] with a name and a team file`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}

	os.WriteFile(p, []byte("school = \"Hillside School\"\nlanguages = [\"en\"\n"), 0o644)
	if _, err := loadConfig(p); err == nil || !strings.Contains(err.Error(), "invalid config "+p+": line ") {
		t.Fatalf("not TOML: %v", err)
	}
	os.WriteFile(p, []byte("school = 3\n"), 0o644)
	if _, err := loadConfig(p); err == nil || !strings.Contains(err.Error(), "invalid config "+p) {
		t.Fatalf("a number for a name: %v", err)
	}
}
