package intake

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/hearken-project/hearken/deploy"
	"github.com/hearken-project/hearken/internal/onion"
	"github.com/hearken-project/hearken/vault"
)

func teamOf(t *testing.T, lines ...string) *vault.Team {
	t.Helper()
	team, err := vault.ParseTeam(strings.NewReader(strings.Join(lines, "\n") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return team
}

// authFiles reads authorized_clients: file name -> content.
func authFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got[e.Name()] = string(b)
	}
	return got
}

func contents(m map[string]string) []string {
	var vs []string
	for _, v := range m {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs
}

func wantKeys(t *testing.T, files map[string]string, ms ...*vault.Member) {
	t.Helper()
	var want []string
	for _, m := range ms {
		want = append(want, m.OnionKey().Public().String()+"\n")
	}
	slices.Sort(want)
	if got := contents(files); !slices.Equal(got, want) {
		t.Fatalf("authorized_clients holds %q, want %q", got, want)
	}
}

// intake keeps tor's authorized_clients in step with the team files: one
// file per member key (named by a hash, never a name), members taken out
// lose theirs, other files are left alone and named, and a service with no
// member key stays closed.
func TestSyncAuthorizedClients(t *testing.T) {
	hs := filepath.Join(t.TempDir(), "hearken-staff")
	ac := filepath.Join(hs, authorizedClients)
	const canary = "Canary Zebulon"
	ana, _ := vault.GenerateMember(canary)
	ben, _ := vault.GenerateMember("Ben Deputy")
	old, _ := vault.GenerateMember("Olive Old")
	f := strings.Fields(old.TeamLine())
	oldLine := f[0] + " " + f[1] + " Olive Old" // a line from before onion keys

	// No member has a key yet: the nobody key keeps the service closed.
	res, err := syncAuthorizedClients(hs, []*vault.Team{teamOf(t, oldLine)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Nobody || !res.CreatedServiceDir || res.Keys != 0 || !slices.Equal(res.WithoutKeys, []string{"Olive Old"}) {
		t.Fatalf("first sync: %+v", res)
	}
	files := authFiles(t, ac)
	nobody, ok := files[nobodyFile]
	if len(files) != 1 || !ok {
		t.Fatalf("without member keys: %v", files)
	}
	if _, err := onion.ParseClientPublicKey(nobody); err != nil {
		t.Fatalf("the nobody key is not a key tor reads: %v", err)
	}
	for _, d := range []string{hs, ac} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s: mode %v, %v; tor wants 0700", d, fi.Mode().Perm(), err)
		}
	}
	// Running again changes nothing, not even the nobody key.
	if res, err = syncAuthorizedClients(hs, []*vault.Team{teamOf(t, oldLine)}); err != nil || res.Added+res.Removed != 0 {
		t.Fatalf("second sync: %+v, %v", res, err)
	}
	if authFiles(t, ac)[nobodyFile] != nobody {
		t.Fatal("the nobody key changed")
	}

	// Two members with keys, one of them on two routes, and someone else's
	// file that intake must not touch.
	os.WriteFile(filepath.Join(ac, "by-hand.auth"), []byte("descriptor:x25519:"+strings.Repeat("A", 52)+"\n"), 0o600)
	teams := []*vault.Team{teamOf(t, ana.TeamLine(), ben.TeamLine(), oldLine), teamOf(t, ana.TeamLine())}
	res, err = syncAuthorizedClients(hs, teams)
	if err != nil {
		t.Fatal(err)
	}
	if res.Nobody || res.Keys != 2 || res.Added != 2 || res.Removed != 1 || !slices.Equal(res.Foreign, []string{"by-hand.auth"}) {
		t.Fatalf("with members: %+v", res)
	}
	files = authFiles(t, ac)
	delete(files, "by-hand.auth")
	wantKeys(t, files, ana, ben)
	for name := range files {
		if !strings.HasPrefix(name, "hearken-") || !strings.HasSuffix(name, ".auth") || strings.Contains(name, "Canary") || strings.Contains(name, "Zebulon") {
			t.Errorf("file name %q", name)
		}
		if fi, _ := os.Stat(filepath.Join(ac, name)); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", name, fi.Mode().Perm())
		}
	}
	if s := strings.Join(res.summary(), "\n"); !strings.Contains(s, "by-hand.auth was not written by intake") || !strings.Contains(s, "2 member keys") {
		t.Errorf("summary:\n%s", s)
	}

	// Ben is taken out of the team: his file goes, Ana's stays as it was.
	res, err = syncAuthorizedClients(hs, []*vault.Team{teamOf(t, ana.TeamLine())})
	if err != nil || res.Removed != 1 || res.Added != 0 {
		t.Fatalf("after removing Ben: %+v, %v", res, err)
	}
	files = authFiles(t, ac)
	if _, ok := files["by-hand.auth"]; !ok {
		t.Fatal("a file intake did not write was removed")
	}
	delete(files, "by-hand.auth")
	wantKeys(t, files, ana)
}

// The torrc init writes is deploy/torrc with the installation's paths; the
// staff service is commented out unless its folder is managed.
func TestTorrcFor(t *testing.T) {
	same := torrcFor("/var/lib/hearken", "/var/lib/tor/hearken-staff/")
	if same != deploy.Torrc {
		t.Fatal("with the default paths, init's torrc is not deploy/torrc")
	}
	moved := torrcFor("/srv/hk/data", "/var/lib/tor/hk-staff/")
	for _, want := range []string{"HiddenServicePort 80 unix:/srv/hk/data/intake.sock", "HiddenServicePort 80 unix:/srv/hk/data/staff.sock", "\nHiddenServiceDir /var/lib/tor/hk-staff/\n"} {
		if !strings.Contains(moved, want) {
			t.Errorf("torrc lacks %q", want)
		}
	}
	if strings.Contains(moved, "/var/lib/hearken/") {
		t.Error("torrc still names /var/lib/hearken/")
	}
	off := torrcFor("/var/lib/hearken", "")
	public, staff, ok := strings.Cut(off, deploy.TorrcStaffMarker)
	if !ok || !strings.Contains(public, "\nHiddenServiceDir /var/lib/tor/hearken/\n") {
		t.Fatal("the public service is missing")
	}
	for _, l := range strings.Split(staff, "\n")[1:] { // [0] ends the marker line
		if l != "" && !strings.HasPrefix(l, "#") {
			t.Errorf("without a staff onion folder, torrc still has %q", l)
		}
	}
}

// Run as root (as intake check is on a server), the folders and files go
// to the owner of the folder above them, tor's user there: tor reads
// authorized_clients only after it has dropped root, and ignores a file it
// cannot open.
func TestSyncAuthorizedClientsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, as on a server")
	}
	const torUID, torGID = 4242, 4343 // any ids will do for root
	parent := filepath.Join(t.TempDir(), "tor")
	if err := os.Mkdir(parent, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(parent, torUID, torGID); err != nil {
		t.Fatal(err)
	}
	hs := filepath.Join(parent, "hearken-staff")
	if _, err := syncAuthorizedClients(hs, []*vault.Team{teamOf(t, member(t).TeamLine())}); err != nil {
		t.Fatal(err)
	}
	ac := filepath.Join(hs, authorizedClients)
	paths := []string{hs, ac}
	for name := range authFiles(t, ac) {
		paths = append(paths, filepath.Join(ac, name))
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != torUID || st.Gid != torGID {
			t.Errorf("%s belongs to %d:%d, want tor's %d:%d", p, st.Uid, st.Gid, torUID, torGID)
		}
	}
}
