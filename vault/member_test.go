package vault

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
