package reviewer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/reviewer/cases"
)

func TestMain(m *testing.M) { testkit.Main(m, nil) }

// reviewer runs the command line in this process and returns its exit
// status and what it printed.
func reviewer(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func writeFile(t *testing.T, path, data string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A reply's or a note's text comes from --message or --message-file, and
// is checked before anything asks for a passphrase or opens the store:
// a mistake in the command costs nothing.
func TestMessageArguments(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	text := writeFile(t, filepath.Join(dir, "reply.txt"), "We are here to help.\n")
	long := writeFile(t, filepath.Join(dir, "long.txt"), strings.Repeat("a", cases.MaxMessage+1))
	empty := writeFile(t, filepath.Join(dir, "empty.txt"), "\n\n")
	for _, cmd := range []string{"reply", "note"} {
		for _, tc := range []struct {
			args   []string
			status int
			says   string
		}{
			{[]string{"--message", "hi", "--message-file", text}, 2, "give --message or --message-file, not both"},
			{[]string{}, 2, `give the text with --message "..." or --message-file FILE`},
			{[]string{"--message-file", filepath.Join(dir, "missing.txt")}, 1, "failed to open the message file"},
			{[]string{"--message-file", long}, 2, "too long (at most 64 KiB)"},
			{[]string{"--message-file", empty}, 2, "is empty"},
			// A good text goes on to the identity, which is not there.
			{[]string{"--message-file", text}, 1, "there is no identity at " + filepath.Join(store, "member.identity")},
			{[]string{"--message", "hi"}, 1, "make one with reviewer keygen"},
		} {
			args := append([]string{"--store", store, cmd, "HK-0001"}, tc.args...)
			code, _, stderr := reviewer(t, args...)
			if code != tc.status || !strings.Contains(stderr, tc.says) {
				t.Errorf("reviewer %s: status %d, want %d, saying %q:\n%s", strings.Join(args, " "), code, tc.status, tc.says, stderr)
			}
		}
	}
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Errorf("a refused command created the store (%v)", err)
	}
}

// Wrong arguments are usage errors (status 2) that say what is wanted.
func TestUsageErrors(t *testing.T) {
	store := filepath.Join(t.TempDir(), "store")
	for _, tc := range []struct {
		args []string
		says string
	}{
		{nil, "no command given"},
		{[]string{"--no-such-flag"}, "flag provided but not defined"},
		{[]string{"show"}, "show needs one case number, like HK-7K3M-Q9XD"},
		{[]string{"show", "HK-0001", "HK-0002"}, "show needs one case number"},
		{[]string{"show", "case-one"}, "HK-"},
		{[]string{"list", "extra"}, "list takes no arguments besides its options"},
		{[]string{"export", "HK-0001"}, "export needs --out FILE.html"},
		{[]string{"attachments", "HK-0001"}, "attachments needs --out"},
		{[]string{"export-sealed", "HK-0001"}, "export-sealed needs --out"},
		{[]string{"triage", "HK-0001", "--urgency"}, "flag needs an argument"},
	} {
		code, _, stderr := reviewer(t, append([]string{"--store", store}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.says) || !strings.Contains(stderr, "Run reviewer help") {
			t.Errorf("reviewer %s: status %d, want 2, saying %q:\n%s", strings.Join(tc.args, " "), code, tc.says, stderr)
		}
	}
}

// --identity names the identity file wherever it is; a passphrase file's
// line ending (CRLF from a Windows editor) is not part of the passphrase;
// a passphrase file that is not there is named as such.
func TestIdentityAndPassphraseFiles(t *testing.T) {
	dir := t.TempDir()
	pass := writeFile(t, filepath.Join(dir, "pass"), "correct horse battery staple\n")
	if code, _, stderr := reviewer(t, "--passphrase-file", pass, "keygen", "--name", "Dana Lead", "--out", filepath.Join(dir, "keys")); code != 0 {
		t.Fatalf("keygen: %s", stderr)
	}
	id := filepath.Join(dir, "keys", "member.identity")
	crlf := writeFile(t, filepath.Join(dir, "pass-crlf"), "correct horse battery staple\r\n")
	out := filepath.Join(dir, "age.key")
	code, _, stderr := reviewer(t, "--store", filepath.Join(dir, "store"), "--identity", id, "--passphrase-file", crlf, "export-age-identity", "--out", out)
	if code != 0 {
		t.Fatalf("export-age-identity with --identity and a CRLF passphrase file: %s", stderr)
	}
	if key, err := os.ReadFile(out); err != nil || !bytes.Contains(key, []byte("\nAGE-SECRET-KEY-PQ-1")) {
		t.Errorf("exported key: %q, %v", key, err)
	}
	code, _, stderr = reviewer(t, "--identity", id, "--passphrase-file", filepath.Join(dir, "nope"), "export-age-identity", "--out", filepath.Join(dir, "again.key"))
	if code != 1 || !strings.Contains(stderr, "failed to open the passphrase file") {
		t.Errorf("a missing passphrase file: status %d:\n%s", code, stderr)
	}
	// keygen with --identity writes there, and never over a file.
	other := filepath.Join(dir, "elsewhere", "me.identity")
	if code, _, stderr := reviewer(t, "--identity", other, "--passphrase-file", pass, "keygen", "--name", "Sam Deputy"); code != 0 {
		t.Fatalf("keygen --identity: %s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "elsewhere", "member.pub")); err != nil {
		t.Errorf("member.pub beside the identity: %v", err)
	}
	code, _, stderr = reviewer(t, "--identity", other, "--passphrase-file", pass, "keygen", "--name", "Sam Deputy")
	if code != 1 || !strings.Contains(stderr, "already exists; keygen never overwrites keys") {
		t.Errorf("keygen over an identity: status %d:\n%s", code, stderr)
	}
}

// init checks where tor's control port, key folder and proxy are before
// saving them, says what sync will do with them, and never repeats a
// proxy's password.
func TestInitTorSettings(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	for _, tc := range []struct {
		args   []string
		status int
		says   string
	}{
		{[]string{"--tor-control", "unix:/run/tor/control"}, 0, "Tor's control port saved: unix:/run/tor/control"},
		{[]string{"--tor-control", "127.0.0.1:9051"}, 0, "Tor's control port saved: 127.0.0.1:9051"},
		{[]string{"--tor-control", "off"}, 0, "Tor's control port: not used; the onion key goes into tor's key folder."},
		{[]string{"--tor-control", "auto"}, 0, "Tor's control port: reviewer sync looks in the usual places."},
		{[]string{"--tor-control", "unix:run/tor/control"}, 2, "--tor-control is tor's control port on this computer"},
		{[]string{"--tor-control", "tcp://127.0.0.1:9051"}, 2, "--tor-control is tor's control port"},
		{[]string{"--tor-control", "192.0.2.7:9051"}, 2, "--tor-control is tor's control port"},
		{[]string{"--onion-auth-dir", "tor-keys"}, 0, "Tor's key folder saved: " + filepath.Join(mustGetwd(t), "tor-keys")},
		{[]string{"--onion-auth-dir", "auto"}, 0, "Tor's key folder: reviewer sync looks for Tor Browser's."},
		{[]string{"--proxy", "socks5://dana:s3cret-pass@127.0.0.1:9050"}, 1, "the proxy must be tor's SOCKS port on this computer"},
		{[]string{"--proxy", "socks5://127.0.0.1:9050"}, 0, "Proxy saved: socks5://127.0.0.1:9050. Give the server with reviewer init --server URL."},
		{[]string{"--server", "http://127.0.0.1:8081"}, 0, "The saved proxy (socks5://127.0.0.1:9050) is not used for this server, which is on this computer."},
		{[]string{"--proxy", "off"}, 0, "Proxy cleared: reviewer sync connects to the server directly."},
		{[]string{"--route", "Head"}, 2, "a route name is 1 to 32 lower-case letters"},
		{[]string{"--route", "head"}, 2, "give the file too, as in reviewer init --team FILE --route head"},
	} {
		args := append([]string{"--store", store, "init"}, tc.args...)
		code, stdout, stderr := reviewer(t, args...)
		if code != tc.status || !strings.Contains(stdout+stderr, tc.says) {
			t.Errorf("reviewer %s: status %d, want %d, saying %q:\n%s%s", strings.Join(tc.args, " "), code, tc.status, tc.says, stdout, stderr)
		}
		if strings.Contains(stdout+stderr, "s3cret-pass") {
			t.Errorf("reviewer %s repeats the proxy's password:\n%s%s", strings.Join(tc.args, " "), stdout, stderr)
		}
	}
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// The desk's guidance is in the language given to serve, else the one init
// saved, else this computer's, else English; init refuses one the desk
// does not have.
func TestDeskLang(t *testing.T) {
	store := filepath.Join(t.TempDir(), "store")
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "ar_EG.UTF-8")
	for _, tc := range []struct {
		lang   string
		status int
		says   string
		saved  string
	}{
		{"fr", 0, "The desk's guidance for the lead is in fr.", "fr"},
		{"de", 2, `the desk has no guidance in "de": it has ar, en, es, fr, zh`, "fr"},
		{"../fr", 2, `"../fr" is not a language code`, "fr"},
		{"auto", 0, "The desk's guidance for the lead follows this computer's language: ar now.", ""},
	} {
		code, stdout, stderr := reviewer(t, "--store", store, "init", "--lang", tc.lang)
		if code != tc.status || !strings.Contains(stdout+stderr, tc.says) {
			t.Errorf("init --lang %s: status %d, want %d, saying %q:\n%s%s", tc.lang, code, tc.status, tc.says, stdout, stderr)
		}
		if cfg, err := cases.LoadConfig(store); err != nil || cfg.Lang != tc.saved {
			t.Errorf("init --lang %s: saved %q (%v), want %q", tc.lang, cfg.Lang, err, tc.saved)
		}
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "LANG" {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		flag, saved, env, want string
	}{
		{"zh", "fr", "es_ES.UTF-8", "zh"},
		{"", "fr", "es_ES.UTF-8", "fr"},
		{"", "", "es_ES.UTF-8", "es"},
		{"", "", "de_DE.UTF-8", "en"},
		{"", "", "", "en"},
	} {
		if got := deskLang(tc.flag, tc.saved, env(tc.env)); got != tc.want {
			t.Errorf("deskLang(%q, %q, LANG=%s) = %q, want %q", tc.flag, tc.saved, tc.env, got, tc.want)
		}
	}
}
