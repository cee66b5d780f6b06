package intake

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Translation catalogs, one file per language. Files other than en.toml are
// machine-drafted until a native speaker reviews them (reviewed = true).
//
//go:embed locales/*.toml
var localeFS embed.FS

// locale is one language's catalog.
type locale struct {
	Code     string            `toml:"-"`
	Name     string            `toml:"name"`      // the language's own name for itself
	HTMLLang string            `toml:"html_lang"` // BCP 47 tag for <html lang>
	Dir      string            `toml:"dir"`       // "ltr" or "rtl"
	Reviewed bool              `toml:"reviewed"`  // checked by a native speaker
	Text     map[string]string `toml:"text"`
}

// locales holds every embedded catalog, keyed by language code.
var locales = mustLoadLocales()

func mustLoadLocales() map[string]*locale {
	m, err := loadLocales()
	if err != nil {
		panic(err)
	}
	return m
}

func loadLocales() (map[string]*locale, error) {
	files, err := localeFS.ReadDir("locales")
	if err != nil {
		return nil, err
	}
	m := map[string]*locale{}
	for _, f := range files {
		code, ok := strings.CutSuffix(f.Name(), ".toml")
		if !ok {
			continue
		}
		data, err := localeFS.ReadFile(path.Join("locales", f.Name()))
		if err != nil {
			return nil, err
		}
		l := &locale{Code: code}
		md, err := toml.Decode(string(data), l)
		if err != nil {
			return nil, fmt.Errorf("locale %s: %w", code, err)
		}
		if u := md.Undecoded(); len(u) > 0 {
			return nil, fmt.Errorf("locale %s: unknown key %q", code, u[0].String())
		}
		if l.Dir != "ltr" && l.Dir != "rtl" {
			return nil, fmt.Errorf("locale %s: dir must be ltr or rtl", code)
		}
		m[code] = l
	}
	if m["en"] == nil {
		return nil, fmt.Errorf("locale en is missing")
	}
	return m, nil
}

func hasLocale(code string) bool { return locales[code] != nil }

func localeCodes() []string {
	var cs []string
	for c := range locales {
		cs = append(cs, c)
	}
	sort.Strings(cs)
	return cs
}

// T returns the text for key, falling back to English (a test makes sure
// every catalog is complete, so the fallback is only a safety net).
func (l *locale) T(key string) string {
	if s, ok := l.Text[key]; ok {
		return s
	}
	if s, ok := locales["en"].Text[key]; ok {
		return s
	}
	return key
}
