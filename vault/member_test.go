package vault

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/internal/testkit"
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
