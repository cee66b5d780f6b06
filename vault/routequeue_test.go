package vault

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// Each route's queue counts its own items only, and a member's pages and
// cursors are the same whatever the other routes receive.
func TestQueuePerRoute(t *testing.T) {
	_, team := testTeam(t, 1)
	s, _ := openTest(t, nil)
	create := func(route string) {
		t.Helper()
		if _, err := s.CreateThread(route, report(route), team.Recipients()); err != nil {
			t.Fatal(err)
		}
	}
	create("students")
	create("head")
	create("head")
	create("students")
	stu, _, err := s.Pending("", 100, []string{"students"}, "m")
	if err != nil || len(stu) != 2 {
		t.Fatalf("%d students items, %v", len(stu), err)
	}
	for i, it := range stu {
		if p := seqOf(t, s, it); p != uint64(i+1) {
			t.Errorf("students item %d at position %d: the other route's items counted", i, p)
		}
	}
	// All routes: route by route, in the order of their names.
	all, _, _ := s.Pending("", 100, nil, "")
	var routes []string
	for _, it := range all {
		routes = append(routes, it.Route)
	}
	if strings.Join(routes, ",") != "head,head,students,students" {
		t.Fatalf("order %v", routes)
	}
	// Paging across routes, one at a time.
	var paged []string
	cursor := ""
	for {
		page, next, err := s.Pending(cursor, 1, nil, "m")
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			if next != "" {
				t.Fatal("an empty page has a cursor")
			}
			break
		}
		paged = append(paged, page[0].ID)
		cursor = next
	}
	if len(paged) != 4 || paged[0] != all[0].ID || paged[3] != all[3].ID {
		t.Fatalf("paged %v", paged)
	}
}

// A cursor is sealed for its member: it shows no position, and another
// member's, a changed one or a made-up one is refused.
func TestQueueCursor(t *testing.T) {
	_, team := testTeam(t, 1)
	s, _ := openTest(t, nil)
	for range 3 {
		s.CreateThread("students", report("x"), team.Recipients())
	}
	_, next, err := s.Pending("", 1, nil, "ed25519:alice")
	if err != nil || next == "" {
		t.Fatal(err)
	}
	if strings.Contains(next, "students") {
		t.Fatalf("cursor %q shows its position", next)
	}
	if _, _, err := s.Pending(next, 1, nil, "ed25519:bob"); !errors.Is(err, ErrBadCursor) {
		t.Fatalf("another member's cursor: %v", err)
	}
	b := []byte(next)
	b[len(b)/2] ^= 1
	for _, c := range []string{string(b), "AAAA", "not base64!", strings.Repeat("A", 1000)} {
		if _, _, err := s.Pending(c, 1, nil, "ed25519:alice"); !errors.Is(err, ErrBadCursor) {
			t.Fatalf("cursor %q: %v", c, err)
		}
	}
	if page, _, err := s.Pending(next, 10, nil, "ed25519:alice"); err != nil || len(page) != 2 {
		t.Fatalf("the member's own cursor: %d, %v", len(page), err)
	}
}

// Options.Drained is called once for each commit of acknowledgements that
// leaves a route's queue empty, and for no other.
func TestDrainedHook(t *testing.T) {
	_, team := testTeam(t, 1)
	drained := 0
	s, err := OpenStore(filepath.Join(t.TempDir(), "h.db"), &Options{Drained: func() { drained++ }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, route := range []string{"students", "students", "head"} {
		s.CreateThread(route, report("x"), team.Recipients())
	}
	stu, _, _ := s.Pending("", 10, []string{"students"}, "")
	head, _, _ := s.Pending("", 10, []string{"head"}, "")
	two := func(string) []string { return []string{"A", "B"} }
	steps := []struct {
		ids    []string
		member string
		want   int
	}{
		{[]string{stu[0].ID}, "A", 0},            // B still lacks it
		{[]string{stu[0].ID, stu[1].ID}, "B", 0}, // stu[1] still waits for A
		{[]string{stu[1].ID}, "A", 1},            // students empties
		{[]string{stu[1].ID}, "A", 1},            // again: nothing changes
		{[]string{head[0].ID}, "A", 1},
		{[]string{head[0].ID}, "B", 2}, // head empties
	}
	for i, st := range steps {
		if _, err := s.AckMany(st.ids, st.member, nil, two); err != nil {
			t.Fatal(err)
		}
		if drained != st.want {
			t.Fatalf("step %d: drained %d times, want %d", i, drained, st.want)
		}
	}
}
