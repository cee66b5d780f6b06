package intake

import (
	"regexp"
	"strings"
	"testing"
)

func TestLocalesComplete(t *testing.T) {
	en := locales["en"]
	for _, want := range []string{"en", "es", "fr", "ar", "zh"} {
		if locales[want] == nil {
			t.Errorf("no %s catalog", want)
		}
	}
	for code, l := range locales {
		for k, v := range en.Text {
			got, ok := l.Text[k]
			if !ok || strings.TrimSpace(got) == "" {
				t.Errorf("%s: missing %q", code, k)
				continue
			}
			if strings.Count(got, "%s") != strings.Count(v, "%s") || strings.Count(got, "%") != strings.Count(v, "%") {
				t.Errorf("%s: %q has different placeholders from English", code, k)
			}
		}
		for k := range l.Text {
			if _, ok := en.Text[k]; !ok {
				t.Errorf("%s: %q is not in the English catalog", code, k)
			}
		}
		if code != "en" {
			raw, _ := localeFS.ReadFile("locales/" + code + ".toml")
			if l.Reviewed || !strings.Contains(string(raw), "MACHINE-DRAFTED") {
				t.Errorf("%s: must be marked machine-drafted until a native speaker reviews it", code)
			}
		}
	}
	if locales["ar"].Dir != "rtl" || locales["zh"].HTMLLang != "zh-Hans" {
		t.Errorf("ar must be rtl and zh must be zh-Hans")
	}
}

// Every key the templates use must be in the English catalog.
func TestTemplateKeys(t *testing.T) {
	files, _ := templateFS.ReadDir("templates")
	for _, f := range files {
		data, _ := templateFS.ReadFile("templates/" + f.Name())
		for _, m := range keyRE.FindAllStringSubmatch(string(data), -1) {
			if _, ok := locales["en"].Text[m[1]]; !ok {
				t.Errorf("%s uses unknown key %q", f.Name(), m[1])
			}
		}
	}
}

var keyRE = regexp.MustCompile(`\.T "([a-z0-9_]+)"`)
