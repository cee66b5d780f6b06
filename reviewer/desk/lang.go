package desk

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The desk's pages are in English; the guidance for the lead comes in the
// language the lead chooses (reviewer serve --lang, or reviewer init
// --lang once), else the language this computer is set to when the desk
// has guidance in it, else English.

// builtinLangs are the languages of the embedded guidance: the public
// site's (intake/locales; a test keeps the two alike), with the tag and
// direction the site gives each.
var builtinLangs = map[string]struct{ tag, dir string }{
	"en": {"en", "ltr"},
	"ar": {"ar", "rtl"},
	"es": {"es", "ltr"},
	"fr": {"fr", "ltr"},
	"zh": {"zh-Hans", "ltr"},
}

// rtlLangs are written right to left, for guidance a school adds in a
// language the desk does not have.
var rtlLangs = []string{"ar", "ckb", "dv", "fa", "he", "ks", "ps", "sd", "ug", "ur", "yi"}

// langTag is the BCP 47 tag of a guidance folder's language, for the lang
// attribute.
func langTag(code string) string {
	if l, ok := builtinLangs[code]; ok {
		return l.tag
	}
	return code
}

// langDir is "rtl" for a language written right to left, else "ltr".
func langDir(code string) string {
	if l, ok := builtinLangs[code]; ok {
		return l.dir
	}
	base, _, _ := strings.Cut(code, "-")
	if slices.Contains(rtlLangs, base) {
		return "rtl"
	}
	return "ltr"
}

// validLang says whether code can name a guidance folder: a language code
// such as "fr" or "pt-BR", never a path.
func validLang(code string) bool {
	if len(code) < 2 || len(code) > 16 {
		return false
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// Languages lists the languages the desk has guidance in, sorted: its own,
// and those the school has added as folders in STORE/guidance/.
func Languages(store string) []string {
	var out []string
	for code := range builtinLangs {
		out = append(out, code)
	}
	entries, _ := os.ReadDir(filepath.Join(store, "guidance"))
	for _, e := range entries {
		if e.IsDir() && validLang(e.Name()) && !slices.Contains(out, e.Name()) {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

// CheckLang says, if the desk has no guidance in code, which languages it
// has and how a school adds one.
func CheckLang(store, code string) error {
	if !validLang(code) {
		return fmt.Errorf("%q is not a language code; give one such as en, ar, es, fr or zh", code)
	}
	if _, ok := builtinLangs[code]; ok {
		return nil
	}
	if fi, err := os.Stat(filepath.Join(store, "guidance", code)); err == nil && fi.IsDir() {
		return nil
	}
	return fmt.Errorf("the desk has no guidance in %q: it has %s; to add a language, put its files in %s",
		code, strings.Join(Languages(store), ", "), filepath.Join(store, "guidance", code))
}

// LangFromEnv returns the language of the desk's guidance that this
// computer's settings ask for (LC_ALL, LC_MESSAGES, LANG, as the C library
// reads them), or "" when they ask for none it has. Chinese is taken only
// where it is written in simplified characters, as the desk's is.
func LangFromEnv(getenv func(string) string) string {
	var locale string
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if locale = getenv(v); locale != "" {
			break
		}
	}
	// language[_territory][.codeset][@modifier]
	locale, _, _ = strings.Cut(locale, ".")
	locale, mod, _ := strings.Cut(locale, "@")
	lang, territory, _ := strings.Cut(locale, "_")
	lang = strings.ToLower(lang)
	if _, ok := builtinLangs[lang]; !ok {
		return ""
	}
	if lang == "zh" {
		switch strings.ToUpper(territory) {
		case "TW", "HK", "MO":
			return ""
		}
		if strings.EqualFold(mod, "hant") {
			return ""
		}
	}
	return lang
}
