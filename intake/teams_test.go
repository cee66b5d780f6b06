package intake

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// reloadFixture is a config with two routes, the server's live teams and
// the staff channel's verifier, as serve wires them.
type reloadFixture struct {
	dir      string
	cfg      *config
	r        *teamReload
	logs     *testkit.Buffer
	drains   int
	sam, ann *vault.Member
}

func newReloadFixture(t *testing.T) *reloadFixture {
	t.Helper()
	f := &reloadFixture{dir: t.TempDir(), logs: &testkit.Buffer{}, sam: member(t)}
	var err error
	if f.ann, err = vault.GenerateMember("Ann Head"); err != nil {
		t.Fatal(err)
	}
	p := writeConfig(t, f.dir, "")
	cfgText, _ := os.ReadFile(p)
	cfgText = append(cfgText, "\n[[routes]]\nname = \"head\"\nteam = \"head.txt\"\n[routes.labels]\nen = \"The head of school\"\n"...)
	f.write(t, "intake.toml", string(cfgText))
	f.write(t, "head.txt", f.ann.TeamLine()+"\n")
	if f.cfg, err = loadConfig(p); err != nil {
		t.Fatal(err)
	}
	store, err := openStore(filepath.Join(f.dir, "data"), f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	live := newLiveTeams(newTeamSet(f.cfg.teamsByRoute()))
	f.r = &teamReload{cfg: f.cfg, live: live, verifier: staff.NewVerifier(live.load().byRoute, nil), store: store,
		drained: func() { f.drains++ }, log: zerolog.New(f.logs)}
	return f
}

func (f *reloadFixture) write(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// verifies reports whether the staff channel's verifier admits m now.
func (f *reloadFixture) verifies(t *testing.T, m *vault.Member) bool {
	t.Helper()
	sig, err := staff.Sign(m, "GET", staff.ItemsPath, "", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.r.verifier.Verify("GET", staff.ItemsPath, "", func(k string) string { return sig.Headers()[k] }, nil)
	return err == nil
}

// Every team file is checked before any takes effect: with one route's
// file good and another's wrong, nothing changes, and the log names each
// problem by route, file and line (never a key), and says the server keeps
// its teams.
func TestReloadAllOrNothing(t *testing.T) {
	f := newReloadFixture(t)
	before := f.r.live.load()
	carol, err := vault.GenerateMember("Carol Deputy")
	if err != nil {
		t.Fatal(err)
	}
	// The safeguarding file gains Carol; the head's loses its line and
	// gains a damaged one.
	f.write(t, "team.txt", f.sam.TeamLine()+"\n"+carol.TeamLine()+"\n")
	line := carol.TeamLine()
	f.write(t, "head.txt", "# the head\n"+line[:40]+"\n")
	if f.r.reload() {
		t.Fatal("a reload with a damaged file took effect")
	}
	if f.r.live.load() != before || f.verifies(t, carol) || !f.verifies(t, f.ann) {
		t.Fatal("a failed reload changed the teams")
	}
	logs := f.logs.String()
	for _, want := range []string{`route \"head\": team file head.txt: line 2:`, "team files not reloaded: the server keeps the teams it had"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, line[:40]) || strings.Contains(logs, "Carol") || strings.Contains(logs, "team files reloaded") {
		t.Errorf("the log shows key material, a name, or a reload:\n%s", logs)
	}

	// An empty team and a missing file are both named, in one line.
	f.resetLogs()
	f.write(t, "head.txt", "# nobody yet\n")
	os.Remove(filepath.Join(f.dir, "team.txt"))
	if f.r.reload() {
		t.Fatal("a reload with no team file took effect")
	}
	logs = f.logs.String()
	if !strings.Contains(logs, `route \"safeguarding\": team file team.txt: file not found; route \"head\": team file head.txt: no members`) {
		t.Errorf("the log does not name both problems:\n%s", logs)
	}

	// Put right, the reload takes effect: Carol in, the head's team as
	// before, one line with the counts, and the store asked to rewrite
	// itself only if an item left a queue.
	f.resetLogs()
	f.write(t, "team.txt", f.sam.TeamLine()+"\n"+carol.TeamLine()+"\n")
	f.write(t, "head.txt", f.ann.TeamLine()+"\n")
	if !f.r.reload() {
		t.Fatalf("the reload failed:\n%s", f.logs)
	}
	if !f.verifies(t, carol) || !f.verifies(t, f.ann) || !f.verifies(t, f.sam) {
		t.Error("the verifier does not admit the new teams")
	}
	if got := len(f.r.live.load().recipients("safeguarding")); got != 2 {
		t.Errorf("reports on the safeguarding route are sealed to %d members, want 2", got)
	}
	if !strings.Contains(f.logs.String(), `"message":"team files reloaded: 2 routes, 3 members"`) {
		t.Errorf("the reload's line:\n%s", f.logs)
	}
	if f.drains != 0 {
		t.Error("no item left a queue, yet the store was asked to rewrite itself")
	}
	if strings.Contains(f.logs.String(), "config file has changed") {
		t.Error("the config file has not changed, yet the log says so")
	}
}

// A reload reads the team files only; when the config itself has changed
// since the start, the log says a restart applies it.
func TestReloadSaysConfigChanged(t *testing.T) {
	f := newReloadFixture(t)
	cfgPath := filepath.Join(f.dir, "intake.toml")
	data, _ := os.ReadFile(cfgPath)
	f.write(t, "intake.toml", strings.Replace(string(data), "Hillside School", "Hillside Academy", 1))
	if !f.r.reload() {
		t.Fatalf("the reload failed:\n%s", f.logs)
	}
	if !strings.Contains(f.logs.String(), "restart the service to apply the rest") {
		t.Errorf("the log does not say the config's changes need a restart:\n%s", f.logs)
	}
}

// A member taken out whose acknowledgement was all an item waited for:
// the item leaves its queue at the reload, and the store is asked to
// rewrite itself so the file no longer shows that queue's order.
func TestReloadMemberLeftDrains(t *testing.T) {
	f := newReloadFixture(t)
	env := &vault.Envelope{Fields: []vault.Field{{Name: "message", Value: "for the head"}}}
	if _, err := f.r.store.CreateThread("head", env, f.r.live.load().recipients("head")); err != nil {
		t.Fatal(err)
	}
	// The head's route gets a second member, Sam, who acknowledges it;
	// then Ann, who never did, is taken out.
	f.write(t, "head.txt", f.ann.TeamLine()+"\n"+f.sam.TeamLine()+"\n")
	if !f.r.reload() {
		t.Fatalf("the reload failed:\n%s", f.logs)
	}
	items, _, err := f.r.store.Pending("", 10, []string{"head"}, vault.FormatSigningKey(f.sam.SigningPublic()))
	if err != nil || len(items) != 1 {
		t.Fatalf("Sam's items: %d %v", len(items), err)
	}
	if _, err := f.r.store.AckMany([]string{items[0].ID}, vault.FormatSigningKey(f.sam.SigningPublic()), []string{"head"}, f.r.live.load().keys); err != nil {
		t.Fatal(err)
	}
	f.write(t, "head.txt", f.sam.TeamLine()+"\n")
	f.resetLogs()
	if !f.r.reload() {
		t.Fatalf("the reload failed:\n%s", f.logs)
	}
	if !strings.Contains(f.logs.String(), `"left":1`) || f.drains != 1 {
		t.Errorf("drains %d; log:\n%s", f.drains, f.logs)
	}
}

func (f *reloadFixture) resetLogs() {
	f.logs = &testkit.Buffer{}
	f.r.log = zerolog.New(f.logs)
}
