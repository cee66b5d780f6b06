package vault

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/internal/onion"
)

// testdata/v1-no-onion.identity was written by SaveMember before members
// had onion keys (passphrase below), with its member.pub line beside it.
const oldPassphrase = "correct horse battery staple"

func copyOld(t *testing.T) (path string, orig []byte) {
	t.Helper()
	orig, err := os.ReadFile("testdata/v1-no-onion.identity")
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "member.identity")
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, orig
}

func TestMemberOnionKey(t *testing.T) {
	m, err := GenerateMember("Ms Ada Lovelace")
	if err != nil {
		t.Fatal(err)
	}
	if m.OnionKey() == nil {
		t.Fatal("a new member has no onion key")
	}
	f := strings.Fields(m.TeamLine())
	if len(f) != 6 || f[2] != m.OnionKey().Public().String() || !strings.HasPrefix(f[2], "descriptor:x25519:") {
		t.Fatalf("team line %q: want recipient, signing key, onion key, name", f)
	}
	path := filepath.Join(t.TempDir(), "member.identity")
	if err := SaveMember(path, m, "pass phrase"); err != nil {
		t.Fatal(err)
	}
	got, err := LoadMember(path, "pass phrase")
	if err != nil {
		t.Fatal(err)
	}
	if got.OnionKey() == nil || !got.OnionKey().Equal(m.OnionKey()) || got.TeamLine() != m.TeamLine() {
		t.Fatal("the onion key did not survive saving and loading")
	}
	team, err := ParseTeam(strings.NewReader(m.TeamLine() + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if tm := team.Members[0]; tm.Name != "Ms Ada Lovelace" || !tm.OnionKey.Equal(m.OnionKey().Public()) {
		t.Fatalf("parsed %q with onion key %v", tm.Name, tm.OnionKey)
	}
	if ks := team.OnionKeys(); len(ks) != 1 || !ks[0].Equal(m.OnionKey().Public()) {
		t.Fatalf("OnionKeys = %v", ks)
	}
}

// An identity file and a member.pub line from before onion keys still work:
// the member simply has no onion key, and their line stays valid.
func TestOldIdentityLoads(t *testing.T) {
	path, _ := copyOld(t)
	m, err := LoadMember(path, oldPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "Olive Old" || m.OnionKey() != nil {
		t.Fatalf("old identity: name %q, onion key %v", m.Name, m.OnionKey())
	}
	pub, err := os.ReadFile("testdata/v1-no-onion.pub")
	if err != nil {
		t.Fatal(err)
	}
	if m.TeamLine()+"\n" != string(pub) {
		t.Fatal("an old member's team line changed")
	}
	team, err := ParseTeam(bytes.NewReader(pub))
	if err != nil {
		t.Fatal(err)
	}
	if tm := team.Members[0]; tm.Name != "Olive Old" || !tm.OnionKey.IsZero() || len(team.OnionKeys()) != 0 {
		t.Fatalf("old line parsed as %q with onion key %v", tm.Name, tm.OnionKey)
	}
}

func TestAddOnionKey(t *testing.T) {
	path, orig := copyOld(t)
	before, err := LoadMember(path, oldPassphrase)
	if err != nil {
		t.Fatal(err)
	}

	// The wrong passphrase changes nothing.
	if _, _, err := AddOnionKey(path, "wrong"); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, orig) {
		t.Fatal("a failed AddOnionKey changed the file")
	}

	m, added, err := AddOnionKey(path, oldPassphrase)
	if err != nil || !added || m.OnionKey() == nil {
		t.Fatalf("AddOnionKey = %v, %v, %v", m, added, err)
	}
	// Every old key is still there, and the file now holds the onion key.
	got, err := LoadMember(path, oldPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	if got.Identity().String() != before.Identity().String() || !got.SigningPublic().Equal(before.SigningPublic()) || got.Name != before.Name {
		t.Fatal("adding the onion key changed the member's other keys")
	}
	if got.OnionKey() == nil || !got.OnionKey().Equal(m.OnionKey()) {
		t.Fatal("the onion key was not saved")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity file mode %v, %v", fi.Mode().Perm(), err)
	}
	// The old file is kept, byte for byte, and nothing else is left over.
	if b, err := os.ReadFile(path + ".before-onion-key"); err != nil || !bytes.Equal(b, orig) {
		t.Fatalf("the old identity file was not kept: %v", err)
	}
	if _, err := os.Stat(path + ".new"); !os.IsNotExist(err) {
		t.Fatal("a temporary file was left behind")
	}

	// Again: nothing to do, and the key stays the same.
	again, added, err := AddOnionKey(path, oldPassphrase)
	if err != nil || added || !again.OnionKey().Equal(m.OnionKey()) {
		t.Fatalf("second AddOnionKey = %v, %v", added, err)
	}
}

// A file in the way of the backup that is not the identity file stops
// AddOnionKey before anything changes.
func TestAddOnionKeyBackupInTheWay(t *testing.T) {
	path, orig := copyOld(t)
	os.WriteFile(path+".before-onion-key", []byte("something else"), 0o600)
	if _, _, err := AddOnionKey(path, oldPassphrase); err == nil || !strings.Contains(err.Error(), "in the way") {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, orig) {
		t.Fatal("the identity file changed")
	}
}

func TestParseTeamOnionErrors(t *testing.T) {
	a, _ := GenerateMember("Alice")
	b, _ := GenerateMember("Bob")
	fa := strings.Fields(a.TeamLine())
	fb := strings.Fields(b.TeamLine())
	other, _ := onion.GenerateClientKey()
	key := other.Public().String()
	tests := []struct {
		name, file, want string
	}{
		{"damaged onion key", fa[0] + " " + fa[1] + " " + key[:len(key)-2] + " Alice\n", "line 1: the onion key is not valid"},
		{"onion key, no name", fa[0] + " " + fa[1] + " " + key + "\n", "line 1: this line looks cut in two"},
		{"duplicate onion key", a.TeamLine() + "\n" + fb[0] + " " + fb[1] + " " + fa[2] + " Bob\n", "line 2: this onion key is already on line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTeam(strings.NewReader(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), key[20:40]) || strings.Contains(err.Error(), fa[2][20:40]) {
				t.Fatal("error echoes key material")
			}
		})
	}
	// The onion key is optional, and in lower case too (tor reads either).
	mixed := fa[0] + " " + fa[1] + " " + strings.ToLower(fa[2]) + " Alice\n" + fb[0] + " " + fb[1] + " Bob Jones\n"
	team, err := ParseTeam(strings.NewReader(mixed))
	if err != nil {
		t.Fatal(err)
	}
	if team.Members[1].Name != "Bob Jones" || !team.Members[1].OnionKey.IsZero() || !team.Members[0].OnionKey.Equal(a.OnionKey().Public()) {
		t.Fatal("mixed lines parsed wrongly")
	}
	if _, err := GenerateMember("descriptor:x25519:me"); err == nil {
		t.Fatal("a name that looks like an onion key was accepted")
	}
}
