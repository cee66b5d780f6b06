package tornet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/internal/onion"
)

// The key files tor reads, in the layout and modes tor insists on. The
// private network test shows tor accepting them; this shows their shape.
func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	k, err := onion.GenerateClientKey()
	if err != nil {
		t.Fatal(err)
	}
	const addr = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"

	hs := filepath.Join(dir, "hs")
	if err := writeAuthorizedClients(hs, []onion.ClientPublicKey{k.Public()}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(hs, "authorized_clients", "client0.auth"))
	if err != nil || string(b) != k.Public().String()+"\n" || !strings.HasPrefix(string(b), "descriptor:x25519:") {
		t.Errorf("client0.auth = %q, %v", b, err)
	}

	auth := filepath.Join(dir, "onion-auth")
	if err := writeAuthPrivate(auth, map[string]*onion.ClientKey{addr: k}); err != nil {
		t.Fatal(err)
	}
	b, err = os.ReadFile(filepath.Join(auth, strings.TrimSuffix(addr, ".onion")+".auth_private"))
	if err != nil {
		t.Fatal(err)
	}
	id, k2, err := onion.ParseAuthPrivate(string(b))
	if err != nil || id+".onion" != addr || !k2.Equal(k) {
		t.Errorf("auth_private = %v, %v", id, err)
	}

	for _, d := range []string{hs, filepath.Join(hs, "authorized_clients"), auth} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, %v; tor wants 0700", d, fi.Mode().Perm(), err)
		}
	}
}

func TestTorrcLines(t *testing.T) {
	n := &Network{dirAuthorities: []string{"DirAuthority auth0 orport=1 v3ident=X 127.0.0.1:2 Y"}}
	nd := &node{name: "auth0", dir: "/d", orPort: 1, dirPort: 2}
	all := strings.Join(append(append(n.common(nd), relayLines(nd)...), authorityLines(nd)...), "\n")
	for _, want := range []string{
		"TestingTorNetwork 1", "ControlPort auto", "CookieAuthentication 1", "__OwningControllerProcess ",
		"ORPort 127.0.0.1:1", "DirPort 127.0.0.1:2", "AssumeReachable 1", "ExitRelay 0",
		"TestingV3AuthInitialVotingInterval 10", "V3AuthVotingInterval 10", "TestingDirAuthVoteHSDir *",
		"DirAuthority auth0",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("torrc lacks %q", want)
		}
	}
}
