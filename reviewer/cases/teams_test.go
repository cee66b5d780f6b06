package cases

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hearken-project/hearken/vault"
)

// TestTeamForRoute shows a reply is sealed only to a team recorded for its
// route: a team given without a route serves the one route this computer
// has, and no other.
func TestTeamForRoute(t *testing.T) {
	dir := t.TempDir()
	m, _ := vault.GenerateMember("Dana Lead")
	src := filepath.Join(dir, "in.txt")
	os.WriteFile(src, []byte(m.TeamLine()+"\n"), 0o600)
	store := filepath.Join(dir, "store")
	if _, r, err := installTeam(store, src, "", nil); err != nil || r != "" {
		t.Fatalf("install before any case: %q, %v", r, err)
	}
	if _, err := teamFor(store, "students", []string{"students"}); err != nil {
		t.Errorf("the only route: %v", err)
	}
	want := "no team is recorded for this route on this computer (route head)"
	if _, err := teamFor(store, "head", []string{"head", "students"}); err == nil || err.Error() != want {
		t.Errorf("head with two routes: %v", err)
	}
	if _, err := teamFor(store, "students", []string{"head", "students"}); !errors.Is(err, ErrNoTeam) {
		t.Errorf("the default team used with two routes: %v", err)
	}
	if _, r, err := installTeam(store, src, "", []string{"head", "students"}); err == nil || r != "" {
		t.Errorf("install without a route over two routes: %q, %v", r, err)
	}
	if _, r, err := installTeam(store, src, "", []string{"students"}); err != nil || r != "students" {
		t.Errorf("install for the one route: %q, %v", r, err)
	}
	if _, err := teamFor(store, "students", []string{"head", "students"}); err != nil {
		t.Errorf("students after its own team: %v", err)
	}
	if _, err := teamFor(store, "head", []string{"head", "students"}); err == nil || err.Error() != want {
		t.Errorf("head: %v", err)
	}
	if _, _, err := installTeam(store, src, "Head_Office", nil); err == nil {
		t.Error("a bad route name was accepted")
	}
}
