package intake

import (
	"strings"
	"testing"
)

// A config with many mistakes names every one of them at once, each with
// where it is, so the IT person can fix the file in one go.
func TestConfigNamesEveryProblem(t *testing.T) {
	dir := t.TempDir()
	p := writeConfig(t, dir, `backup_keep = -2
[limits]
max_concurrent_submissions = -1
submissions_per_minute = -5`)
	appendFile(t, p, `
[[emergency.fr]]
name = "Police"
phone = "17"
url = "ftp://police.example"

[[emergency.fr]]
name = "SOS"
phone = "112"
url = "http://"

[[emergency.fr]]
name = "Ligne"
phone = "0800"
url = "http://%zz"

[[routes]]
name = "Head-Of-School"
team = "team.txt"

[[routes]]
name = "`+strings.Repeat("a", 33)+`"
team = "team.txt"
[routes.labels]
en = "Long"

[[routes]]
name = ""
team = "team.txt"
[routes.labels]
en = "Empty"

[[routes]]
name = "safeguarding"
[routes.labels]
en = "Again"
`)
	_, err := loadConfig(p)
	if err == nil {
		t.Fatal("a config full of mistakes was accepted")
	}
	for _, want := range []string{
		"backup_keep must be at least 1",
		"limits.max_concurrent_submissions must be at least 1",
		"limits.submissions_per_minute must be at least 1",
		"emergency.fr[1]: url: must be an http:// or https:// address",
		"emergency.fr[2]: url: must be an http:// or https:// address",
		"emergency.fr[3]: url: not a valid URL",
		`routes[2]: name "Head-Of-School" must be 1-32 lowercase letters, digits or hyphens`,
		`routes[2]: a label for the default language "en" is required when there is more than one route`,
		`routes[3]: name "` + strings.Repeat("a", 33) + `" must be 1-32`,
		`routes[4]: name "" must be 1-32`,
		`routes[5]: name "safeguarding" is used twice`,
		"routes[5]: team file is required",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
}
