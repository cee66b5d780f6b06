package desk

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// The desk's guidance comes in every language of the public site, with the
// site's tag and direction for each, and each translation has the English
// text's shape: a title, the same paragraphs and lists, item for item.
func TestGuidanceInEveryLanguage(t *testing.T) {
	locales, err := filepath.Glob("../../intake/locales/*.toml")
	if err != nil || len(locales) == 0 {
		t.Fatalf("the public site's languages: %v", err)
	}
	var site []string
	for _, p := range locales {
		var l struct {
			HTMLLang string `toml:"html_lang"`
			Dir      string `toml:"dir"`
		}
		if _, err := toml.DecodeFile(p, &l); err != nil {
			t.Fatal(err)
		}
		code := strings.TrimSuffix(filepath.Base(p), ".toml")
		site = append(site, code)
		b, ok := builtinLangs[code]
		if !ok {
			t.Errorf("the public site is in %s, the desk's guidance is not", code)
			continue
		}
		if b.tag != l.HTMLLang || b.dir != l.Dir {
			t.Errorf("%s: the desk says %s %s, the site %s %s", code, b.tag, b.dir, l.HTMLLang, l.Dir)
		}
	}
	for code := range builtinLangs {
		if !slices.Contains(site, code) {
			t.Errorf("the desk has guidance in %s, which the public site lacks", code)
		}
	}
	english, err := guidanceFiles.ReadDir("guidance/en")
	if err != nil || len(english) == 0 {
		t.Fatalf("the English guidance: %v", err)
	}
	for code := range builtinLangs {
		files, _ := guidanceFiles.ReadDir("guidance/" + code)
		if len(files) != len(english) {
			t.Errorf("%s has %d guidance files, English %d", code, len(files), len(english))
		}
		for _, f := range english {
			en, _ := guidanceFiles.ReadFile("guidance/en/" + f.Name())
			data, err := guidanceFiles.ReadFile("guidance/" + code + "/" + f.Name())
			if err != nil {
				t.Errorf("%s: no %s", code, f.Name())
				continue
			}
			want, got := parseGuidance(string(en)), parseGuidance(string(data))
			if got.Title == "Guidance" || code != "en" && got.Title == want.Title {
				t.Errorf("%s/%s: the title is not translated: %q", code, f.Name(), got.Title)
			}
			if shape(got) != shape(want) {
				t.Errorf("%s/%s: shaped %s, English %s", code, f.Name(), shape(got), shape(want))
			}
			// The services a lead must find are named as in English.
			for _, name := range []string{"CEOP", "ceop.police.uk", "NCMEC", "CyberTipline", "INHOPE", "Take It Down", "takeitdown.ncmec.org", "Report Remove", "Childline", "LADO", "Guidance for the lead"} {
				if strings.Contains(string(en), name) != strings.Contains(string(data), name) {
					t.Errorf("%s/%s: %q is in one of it and the English, not both", code, f.Name(), name)
				}
			}
			// A translation says where to find the English it follows.
			if code != "en" && !strings.Contains(string(data), "reviewer serve --lang en") {
				t.Errorf("%s/%s does not point to the English text", code, f.Name())
			}
		}
	}
}

// shape is a guidance text's paragraphs (P) and lists (the number of items).
func shape(g *guidance) string {
	var b strings.Builder
	for _, bl := range g.Blocks {
		if bl.Items != nil {
			b.WriteString("L" + strings.Repeat("i", len(bl.Items)) + " ")
		} else {
			b.WriteString("P ")
		}
	}
	return b.String()
}

// In Arabic the guidance is marked as Arabic, right to left, inside the
// desk's English page; a text the school has only in English falls back to
// English, marked so.
func TestGuidanceArabic(t *testing.T) {
	f := newFixture(t)
	f.d.opts.Lang = "ar"
	f.report("message", "someone is threatening to share my photos")
	f.report("message", "people laugh at me")
	f.open()
	f.follow(f.post("/case/HK-0000-0001/triage", url.Values{"category": {"online exploitation or sextortion"}}))
	wantBody(t, f.get("/case/HK-0000-0001"), 200, `<html lang="en">`,
		`<section class="guidance" aria-labelledby="guidance-title" lang="ar" dir="rtl">\s*<h2 id="guidance-title">الاستغلال عبر الإنترنت أو الابتزاز الجنسي: ما يجب فعله الآن</h2>`,
		"احتفظ بالأدلة", "takeitdown.ncmec.org")
	f.follow(f.post("/case/HK-0000-0002/triage", url.Values{"category": {"bullying"}}))
	dir := filepath.Join(f.dir, "guidance", "en")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "bullying.txt"), []byte("# Our bullying steps\nTalk to the form tutor today.\n"), 0o600)
	wantBody(t, f.get("/case/HK-0000-0002"), 200, `lang="en" dir="ltr">\s*<h2 id="guidance-title">Our bullying steps</h2>`)
	// A school's own Arabic file replaces the default, and stays Arabic.
	os.MkdirAll(filepath.Join(f.dir, "guidance", "ar"), 0o700)
	os.WriteFile(filepath.Join(f.dir, "guidance", "ar", "bullying.txt"), []byte("# خطوات مدرستنا\nتحدث إلى المعلم.\n"), 0o600)
	wantBody(t, f.get("/case/HK-0000-0002"), 200, `lang="ar" dir="rtl">\s*<h2 id="guidance-title">خطوات مدرستنا</h2>`)
}

// The desk refuses a language it has no guidance in, and says which it
// has; a school adds one with a folder.
func TestCheckLang(t *testing.T) {
	store := t.TempDir()
	for _, code := range []string{"en", "ar", "es", "fr", "zh"} {
		if err := CheckLang(store, code); err != nil {
			t.Errorf("%s: %v", code, err)
		}
	}
	err := CheckLang(store, "de")
	if err == nil || !strings.Contains(err.Error(), `no guidance in "de": it has ar, en, es, fr, zh; to add a language, put its files in `+filepath.Join(store, "guidance", "de")) {
		t.Errorf("de: %v", err)
	}
	for _, bad := range []string{"../en", "e", "en/..", "a.b", ""} {
		if CheckLang(store, bad) == nil {
			t.Errorf("%q taken for a language", bad)
		}
	}
	os.MkdirAll(filepath.Join(store, "guidance", "de"), 0o700)
	if err := CheckLang(store, "de"); err != nil {
		t.Errorf("de with a folder: %v", err)
	}
	if got := strings.Join(Languages(store), " "); got != "ar de en es fr zh" {
		t.Errorf("languages %q", got)
	}
	if _, err := New(Options{Store: store, Identity: "x", Lang: "pt"}); err == nil {
		t.Error("a desk in a language without guidance")
	}
	for code, dir := range map[string]string{"ar": "rtl", "fa": "rtl", "he": "rtl", "ur-PK": "rtl", "de": "ltr", "zh": "ltr"} {
		if langDir(code) != dir {
			t.Errorf("%s: %s", code, langDir(code))
		}
	}
}

// Without a choice, the desk follows this computer's language where it has
// guidance in it.
func TestLangFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"LANG": "fr_FR.UTF-8"}, "fr"},
		{map[string]string{"LANG": "ar_EG.UTF-8"}, "ar"},
		{map[string]string{"LANG": "es_MX"}, "es"},
		{map[string]string{"LANG": "zh_CN.UTF-8"}, "zh"},
		{map[string]string{"LANG": "zh_SG.UTF-8"}, "zh"},
		{map[string]string{"LANG": "zh_TW.UTF-8"}, ""}, // traditional characters
		{map[string]string{"LANG": "de_DE.UTF-8"}, ""},
		{map[string]string{"LANG": "C.UTF-8"}, ""},
		{map[string]string{"LANG": "en_GB.UTF-8"}, "en"},
		{map[string]string{"LC_ALL": "fr_CA.UTF-8", "LANG": "en_US.UTF-8"}, "fr"},
		{map[string]string{"LC_MESSAGES": "es_ES@euro", "LANG": "en_US.UTF-8"}, "es"},
		{map[string]string{}, ""},
	} {
		if got := LangFromEnv(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.env, got, tc.want)
		}
	}
}
