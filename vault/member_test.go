package vault

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/hearken-project/hearken/internal/onion"
	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/internal/workfactor"
)

func TestMemberSaveLoad(t *testing.T) {
	m, err := GenerateMember("Ms Ada Lovelace")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "member.identity")
	if err := SaveMember(path, m, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity file mode %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), "AGE-SECRET-KEY") || strings.Contains(string(raw), "Lovelace") {
		t.Fatal("identity file holds plaintext")
	}
	if err := SaveMember(path, m, "other"); !errors.Is(err, ErrExists) {
		t.Fatalf("overwrite: got %v, want ErrExists", err)
	}
	if _, err := LoadMember(path, "wrong passphrase"); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: got %v", err)
	}
	got, err := LoadMember(path, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != m.Name || got.TeamLine() != m.TeamLine() || got.Identity().String() != m.Identity().String() {
		t.Fatal("loaded member differs")
	}
	if s := fmt.Sprintf("%v %+v %#v %s", m, m, m, m); strings.Contains(s, "AGE-SECRET") || strings.Count(s, "[REDACTED]") != 4 {
		t.Fatalf("member not redacted: %s", s)
	}
}

func TestLoadMemberNotAnIdentity(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, []byte("hello\n"), 0o600)
	if _, err := LoadMember(plain, "x"); err == nil || errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("got %v", err)
	}
	if _, err := LoadMember(filepath.Join(dir, "missing"), "x"); err == nil {
		t.Fatal("missing file loaded")
	}
}

func TestGenerateMemberName(t *testing.T) {
	for _, name := range []string{"", "  ", "a\nb", "has # hash", strings.Repeat("x", 101)} {
		if _, err := GenerateMember(name); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
}

// TestMemberUnprintable shows a member's secret keys print under no verb,
// on a value as on a pointer, nested anywhere: fmt prints an unexported
// field without calling its methods, so the keys live behind pointers.
func TestMemberUnprintable(t *testing.T) {
	m, err := GenerateMember("Ms Ada Lovelace")
	if err != nil {
		t.Fatal(err)
	}
	seed := m.marshal() // holds both keys; pick them out of it
	var secrets [][]byte
	var texts []string
	for _, line := range strings.Split(string(seed), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		switch k {
		case "age-identity":
			texts = append(texts, v, v[len("AGE-SECRET-KEY-PQ-1"):][:16])
		case "ed25519-seed", "onion-x25519":
			b, err := base64.RawURLEncoding.DecodeString(v)
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, b)
			texts = append(texts, v[:12])
		}
	}
	if len(secrets) != 2 || len(texts) != 4 {
		t.Fatal("test did not find the member's keys")
	}
	testkit.Unprintable(t, *m, secrets, texts...)
	testkit.Unprintable(t, m, secrets, texts...)
	for _, verb := range testkit.Verbs {
		if verb == "%T" || verb == "%p" {
			continue // a type name; an error that a value is no pointer
		}
		if got := fmt.Sprintf(verb, *m); got != "[REDACTED]" {
			t.Errorf("a Member value printed with %s is %q, not [REDACTED]", verb, got)
		}
	}
	if j, _ := json.Marshal(*m); string(j) != `"[REDACTED]"` {
		t.Errorf("a Member encodes to JSON as %s", j)
	}
}

// sealedIdentityFile writes plain, sealed with passphrase as SaveMember
// seals, to a new file: what a damaged or foreign identity file holds once
// the passphrase has opened it.
func sealedIdentityFile(t *testing.T, plain, passphrase string) string {
	t.Helper()
	rcpt, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	rcpt.SetWorkFactor(workfactor.Scrypt())
	var b bytes.Buffer
	w, err := age.Encrypt(&b, rcpt)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(plain))
	w.Close()
	path := filepath.Join(t.TempDir(), "member.identity")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// An identity file that opens with its passphrase but does not hold exactly
// what SaveMember writes is refused as damaged, without quoting a word of
// what it held (a line may hold a secret key).
func TestLoadMemberDamagedContents(t *testing.T) {
	m, err := GenerateMember("Ms Ada Lovelace")
	if err != nil {
		t.Fatal(err)
	}
	k, _ := onion.GenerateClientKey()
	good := string(m.marshal())
	lines := strings.Split(strings.TrimSuffix(good, "\n"), "\n")
	without := func(prefix string) string {
		var out []string
		for _, l := range lines {
			if !strings.HasPrefix(l, prefix) {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n") + "\n"
	}
	onionLine := "onion-x25519: " + base64.RawURLEncoding.EncodeToString(k.Bytes()) + "\n"
	noOnion := without("onion-x25519: ")
	tests := map[string]string{
		"other header":          strings.Replace(good, memberHeader, "hearken-member-v9", 1),
		"no header":             strings.Join(lines[1:], "\n") + "\n",
		"line without a colon":  good + "ed25519-seed\n",
		"unknown key":           good + "email: ada@example.org\n",
		"bad age identity":      strings.Replace(good, "AGE-SECRET-KEY-PQ-1", "AGE-SECRET-KEY-PQ-9", 1),
		"classic age identity":  without("age-identity: ") + "age-identity: AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n",
		"seed not base64":       without("ed25519-seed: ") + "ed25519-seed: ***secret***\n",
		"seed too short":        without("ed25519-seed: ") + "ed25519-seed: " + base64.RawURLEncoding.EncodeToString(make([]byte, 31)) + "\n",
		"no seed":               without("ed25519-seed: "),
		"no identity":           without("age-identity: "),
		"no name":               without("name: "),
		"name with a hash":      strings.Replace(good, "name: Ms Ada Lovelace", "name: Ms # Ada", 1),
		"onion key short":       noOnion + "onion-x25519: " + base64.RawURLEncoding.EncodeToString(make([]byte, 16)) + "\n",
		"onion key not base64":  noOnion + "onion-x25519: !!!\n",
		"onion key twice":       noOnion + onionLine + onionLine,
		"empty":                 "",
		"only the header":       memberHeader + "\n",
		"header with spaces":    " " + good,
		"key with extra spaces": strings.Replace(good, "name: ", "name:  ", 1) + "x\n",
	}
	for name, plain := range tests {
		t.Run(name, func(t *testing.T) {
			path := sealedIdentityFile(t, plain, "correct horse battery")
			got, err := LoadMember(path, "correct horse battery")
			if err == nil || got != nil {
				t.Fatalf("loaded: %v", err)
			}
			if errors.Is(err, ErrWrongPassphrase) || !strings.Contains(err.Error(), "damaged") {
				t.Fatalf("got %v, want a damaged identity file", err)
			}
			for _, l := range strings.Split(plain, "\n") {
				if _, v, ok := strings.Cut(l, ": "); ok && len(v) >= 8 && strings.Contains(err.Error(), v) {
					t.Fatalf("the error quotes the file: %v", err)
				}
			}
		})
	}
	// The file as SaveMember writes it, with or without an onion key, loads.
	for _, plain := range []string{good, noOnion, noOnion + onionLine} {
		if _, err := LoadMember(sealedIdentityFile(t, plain, "p"), "p"); err != nil {
			t.Fatalf("a sound identity file: %v", err)
		}
	}
}

// An identity file too large to be one is refused before it is decrypted,
// and one whose payload was cut is named as damaged, not as a wrong
// passphrase.
func TestLoadMemberRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.identity")
	os.WriteFile(big, bytes.Repeat([]byte("age-encryption.org/v1\n"), memberFileMax), 0o600)
	if _, err := LoadMember(big, "x"); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("a huge file: %v", err)
	}

	m, _ := GenerateMember("Ms Ada Lovelace")
	path := filepath.Join(dir, "member.identity")
	if err := SaveMember(path, m, "pass"); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	cut := filepath.Join(dir, "cut.identity")
	os.WriteFile(cut, raw[:len(raw)-20], 0o600)
	if _, err := LoadMember(cut, "pass"); err == nil || errors.Is(err, ErrWrongPassphrase) || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("a cut identity file: %v", err)
	}
}

// SaveMember refuses an empty passphrase and writes nothing: an identity
// file must never hold the keys in a form anyone can open.
func TestSaveMemberNeedsPassphrase(t *testing.T) {
	m, _ := GenerateMember("Ms Ada Lovelace")
	path := filepath.Join(t.TempDir(), "member.identity")
	if err := SaveMember(path, m, ""); err == nil || !strings.Contains(err.Error(), "passphrase is required") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a file was written without a passphrase")
	}
}

// sameKeys, which AddOnionKey relies on to check what it wrote before it
// replaces the identity file, tells every difference apart.
func TestSameKeys(t *testing.T) {
	a, _ := GenerateMember("Lead")
	b, _ := GenerateMember("Lead")
	k1, _ := onion.GenerateClientKey()
	k2, _ := onion.GenerateClientKey()
	with := func(m *Member, name string, k *onion.ClientKey) *Member {
		return &Member{Name: name, identity: m.identity, signing: m.signing, onion: k}
	}
	tests := []struct {
		name string
		x, y *Member
		want bool
	}{
		{"same", with(a, "Lead", k1), with(a, "Lead", k1), true},
		{"neither has an onion key", with(a, "Lead", nil), with(a, "Lead", nil), true},
		{"other name", with(a, "Lead", k1), with(a, "Head", k1), false},
		{"other identity", with(a, "Lead", k1), &Member{Name: "Lead", identity: b.identity, signing: a.signing, onion: k1}, false},
		{"other signing key", with(a, "Lead", k1), &Member{Name: "Lead", identity: a.identity, signing: b.signing, onion: k1}, false},
		{"other onion key", with(a, "Lead", k1), with(a, "Lead", k2), false},
		{"onion key lost", with(a, "Lead", k1), with(a, "Lead", nil), false},
	}
	for _, tt := range tests {
		if got := tt.x.sameKeys(tt.y); got != tt.want {
			t.Errorf("%s: sameKeys = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// An age file sealed to a key rather than a passphrase (a team item, a
// backup of something else) is not an identity file: saying "wrong
// passphrase" would send the lead hunting for a passphrase that cannot
// open it.
func TestLoadMemberKeySealedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sealed.age")
	os.WriteFile(path, testkit.SealedToKey(t, []byte(memberHeader+"\n")), 0o600)
	_, err := LoadMember(path, "any passphrase")
	if err == nil || errors.Is(err, ErrWrongPassphrase) || !strings.Contains(err.Error(), "rather than a passphrase") {
		t.Fatalf("a file sealed to a key: %v", err)
	}
}
