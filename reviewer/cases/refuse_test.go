package cases

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// An export never overwrites a file: a case record written over a lead's
// other document would lose it, and one written over another case's record
// could send the wrong child's case to the police. The file is left as it
// was, and the case's chronology does not claim an export that did not
// happen; exporting under a new name then works.
func TestExportNeverOverwrites(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	if _, err := f.st.storeItems([]staff.Item{
		f.item(t, th, vault.KindReport, "2026-03-01", "message", "the report"),
		f.item(t, th, vault.KindFollowUp, "2026-03-02", "message", "more"),
	}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	taken := filepath.Join(dir, "record.html")
	os.WriteFile(taken, []byte("the lead's other document"), 0o600)
	exports := func() int {
		cv, err := f.st.Show(1)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, l := range cv.Chronology {
			if strings.Contains(l.Text, "exported") {
				n++
			}
		}
		return n
	}
	if err := f.st.Export(1, taken); err == nil || !strings.Contains(err.Error(), "already exists; it will not be overwritten") {
		t.Fatalf("export over a file: %v", err)
	}
	if b, _ := os.ReadFile(taken); string(b) != "the lead's other document" {
		t.Fatal("the file was changed")
	}
	if n := exports(); n != 0 {
		t.Fatalf("the chronology records %d exports after a refused one", n)
	}
	if err := f.st.Export(1, filepath.Join(dir, "record-2.html")); err != nil {
		t.Fatal(err)
	}
	if n := exports(); n != 1 {
		t.Fatalf("the chronology records %d exports, want 1", n)
	}

	// The sealed items likewise: the first file in the way stops the export.
	sealedDir := filepath.Join(dir, "sealed")
	first, err := f.st.ExportSealed(1, sealedDir)
	if err != nil || len(first) != 2 {
		t.Fatalf("sealed export: %v, %v", first, err)
	}
	before, _ := os.ReadFile(first[0])
	got, err := f.st.ExportSealed(1, sealedDir)
	if err == nil || len(got) != 0 || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("sealed export again: %v, %v", got, err)
	}
	if after, _ := os.ReadFile(first[0]); !bytes.Equal(before, after) {
		t.Fatal("a sealed item file was changed")
	}
	if _, err := f.st.ExportSealed(9, filepath.Join(dir, "none")); !errors.Is(err, ErrNoCase) {
		t.Fatalf("no such case: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("an export of no case made a folder")
	}
}

// The case store is one process's at a time: a second reviewer (the CLI
// while the desk runs) is told it is in use, and waits for nothing.
func TestStoreInUse(t *testing.T) {
	f := newStoreFixture(t)
	if _, err := Open(f.dir, f.m, false); !errors.Is(err, ErrStoreLocked) {
		t.Fatalf("a second open: %v, want ErrStoreLocked", err)
	}
	f.st.Close()
	st, err := Open(f.dir, f.m, false)
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	st.Close()
}

// A settings file that is not TOML (edited by hand, or cut short) is
// named, with what to do, and its contents are not quoted.
func TestConfigNotValid(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, configFile), []byte("server = \"https://secret.example\nproxy = 7 = 8\n"), 0o600)
	_, err := LoadConfig(dir)
	if err == nil || !strings.Contains(err.Error(), "the settings file "+filepath.Join(dir, configFile)+" is not valid; fix or remove it and run reviewer init again") {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "secret.example") {
		t.Fatal("the error quotes the file")
	}
	if err := SaveConfig(dir, Config{Server: "http://127.0.0.1:8080"}); err != nil {
		t.Fatal(err)
	}
	if c, err := LoadConfig(dir); err != nil || c.Server != "http://127.0.0.1:8080" {
		t.Fatalf("after saving: %+v, %v", c, err)
	}
}

// A report whose reply address is not a reply key (sealed by someone who
// holds only the team's public keys) leaves no way to reach its reporter:
// a reply is refused with words that say so, and nothing is queued.
func TestReplyToNoAddress(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	it := f.item(t, th, vault.KindReport, "2026-03-01", "message", "reply to me")
	e := f.reopen(t, it)
	e.ReplyTo = "age1pq1notakeyatall"
	forged := f.seal(t, th, it.ID, e)
	forged.Kind = vault.KindReport
	if _, err := f.st.storeItems([]staff.Item{forged}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Reply(1, "We hear you.", f.team); err == nil || !strings.Contains(err.Error(), "no valid reply address") {
		t.Fatalf("got %v", err)
	}
	if out, _ := f.st.outbox(); len(out) != 0 {
		t.Fatalf("%d replies queued", len(out))
	}
}

// A lead whose line is missing from the route's team file still reads
// their own reply when it comes back: it is sealed to them as well as to
// the reporter and the team.
func TestReplySealedToAuthorOutsideTeam(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	if _, err := f.st.storeItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01", "message", "help")}); err != nil {
		t.Fatal(err)
	}
	others, err := vault.ParseTeam(strings.NewReader(f.peer.TeamLine() + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Reply(1, "We hear you.", others); err != nil {
		t.Fatal(err)
	}
	out, _ := f.st.outbox()
	if len(out) != 1 {
		t.Fatalf("%d replies queued", len(out))
	}
	for name, id := range map[string]age.Identity{"the author": f.m.Identity(), "the colleague": f.peer.Identity(), "the reporter": f.reply} {
		if e, err := vault.Open(out[0].Sealed, id); err != nil || e.Field("message") != "We hear you." {
			t.Errorf("%s cannot open the reply: %v", name, err)
		}
	}
}

// A team file that cannot be one (missing, over 1 MiB, or not a team
// file) is refused with the file's name and nothing is installed: the team
// already recorded for the route is kept, so replies are never sealed to a
// half-read team.
func TestInstallTeamRefuses(t *testing.T) {
	f := newStoreFixture(t)
	before, err := os.ReadFile(filepath.Join(f.dir, teamsDir, "students.txt"))
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(src, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	f.st.Close() // reviewer init runs with no store open
	good := write("team.txt", f.m.TeamLine()+"\n")
	for name, tt := range map[string]struct{ path, route, want string }{
		"missing":   {filepath.Join(src, "missing.txt"), "students", "failed to open the team file"},
		"too big":   {write("big.txt", f.m.TeamLine()+"\n"+strings.Repeat("#\n", maxTeamFile)), "students", "the team file is too large"},
		"not one":   {write("notes.txt", "Dana Lead, Sam Deputy\n"), "students", "the team file " + filepath.Join(src, "notes.txt") + ": line 1"},
		"bad route": {good, "Students!", "a route name is 1 to 32 lower-case letters"},
	} {
		if _, _, err := InstallTeam(f.dir, tt.path, tt.route); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", name, err, tt.want)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(f.dir, teamsDir, "students.txt")); !bytes.Equal(before, after) {
		t.Fatal("a refused team file replaced the route's team")
	}
}
