package vault

import (
	"slices"
	"testing"

	"github.com/google/uuid"
)

// A member who joins a route later receives the case history the server
// still holds once the teams are read again; a member who leaves stops
// holding items back; items purged are not sent again (issue 13.5).
func TestRequeueForNewMember(t *testing.T) {
	_, team := testTeam(t, 1)
	s, _ := openTest(t, nil)
	var receipts []Receipt
	for range 3 {
		r, _ := s.CreateThread("students", report("x"), team.Recipients())
		receipts = append(receipts, r)
	}
	s.CreateThread("head", report("y"), team.Recipients())
	teams := map[string][]string{"students": {"A"}, "head": {"H"}}
	of := func(r string) []string { return teams[r] }
	// A replies, then fetches and acknowledges everything on students.
	th, _ := s.Thread(receipts[0])
	if _, err := s.AddReply(th.ID, uuid.NewString(), []byte("age-encryption.org/v1\n-> x\n")); err != nil {
		t.Fatal(err)
	}
	items, _, _ := s.Pending("", 100, []string{"students"}, "A")
	if len(items) != 4 {
		t.Fatalf("%d items for A", len(items))
	}
	for _, it := range items {
		if err := s.Ack(it.ID, "A", of("students")); err != nil {
			t.Fatal(err)
		}
	}
	if p, _, _ := s.Pending("", 100, []string{"students"}, ""); len(p) != 0 {
		t.Fatalf("%d items still queued", len(p))
	}
	// One report is purged: the server no longer holds it.
	if n, err := s.PurgeAcked(); err != nil || n != 3 {
		t.Fatalf("purged %d, %v", n, err)
	}
	// No change of team: nothing moves.
	if j, l, err := s.Requeue(of); err != nil || j != 0 || l != 0 {
		t.Fatalf("requeue with the same teams: %d joined, %d left, %v", j, l, err)
	}
	// B joins students: the reply, still held, waits for B.
	teams["students"] = []string{"A", "B"}
	if j, l, err := s.Requeue(of); err != nil || j != 1 || l != 0 {
		t.Fatalf("requeue for B: %d joined, %d left, %v", j, l, err)
	}
	forB, _, _ := s.Pending("", 100, []string{"students"}, "B")
	if len(forB) != 1 || forB[0].Kind != KindReply {
		t.Fatalf("B gets %d items", len(forB))
	}
	if p, _, _ := s.Pending("", 100, []string{"students"}, "A"); len(p) != 0 {
		t.Fatal("A is sent again what A acknowledged")
	}
	// Nothing new for H, whose route did not change.
	if p, _, _ := s.Pending("", 100, []string{"head"}, "H"); len(p) != 1 {
		t.Fatalf("H: %d", len(p))
	}
	// B leaves again before acknowledging: the reply no longer waits.
	teams["students"] = []string{"A"}
	if j, l, err := s.Requeue(of); err != nil || j != 0 || l != 1 {
		t.Fatalf("requeue after B left: %d joined, %d left, %v", j, l, err)
	}
	if p, _, _ := s.Pending("", 100, []string{"students"}, ""); len(p) != 0 {
		t.Fatalf("%d items wait for a member who left", len(p))
	}
	if h := s.QueueHealth(); !h.Sound() {
		t.Fatalf("queue check: %+v", h)
	}
}

// A member who asks for everything again is sent every item the server
// still holds on their routes, and no one else is (issue 15.6).
func TestResend(t *testing.T) {
	_, team := testTeam(t, 1)
	s, _ := openTest(t, nil)
	for range 3 {
		s.CreateThread("students", report("x"), team.Recipients())
	}
	s.CreateThread("head", report("y"), team.Recipients())
	teams := map[string][]string{"students": {"A", "B"}, "head": {"A"}}
	of := func(r string) []string { return teams[r] }
	all, _, _ := s.Pending("", 100, nil, "")
	for _, it := range all {
		for _, m := range of(it.Route) {
			s.Ack(it.ID, m, of(it.Route))
		}
	}
	if p, _, _ := s.Pending("", 100, nil, ""); len(p) != 0 {
		t.Fatalf("%d items still wait", len(p))
	}
	n, err := s.Resend("B", []string{"students"})
	if err != nil || n != 3 {
		t.Fatalf("resend: %d, %v", n, err)
	}
	forB, _, _ := s.Pending("", 100, []string{"students"}, "B")
	forA, _, _ := s.Pending("", 100, nil, "A")
	if len(forB) != 3 || len(forA) != 0 {
		t.Fatalf("after B's resend: %d for B, %d for A", len(forB), len(forA))
	}
	// In the order they arrived.
	var ids, want []string
	for _, it := range forB {
		ids = append(ids, it.ID)
	}
	for _, it := range all {
		if it.Route == "students" {
			want = append(want, it.ID)
		}
	}
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatal("resent items are not the route's")
	}
	for _, it := range forB {
		s.Ack(it.ID, "B", of("students"))
	}
	if p, _, _ := s.Pending("", 100, nil, ""); len(p) != 0 {
		t.Fatalf("%d items wait after B acknowledged them again", len(p))
	}
	if h := s.QueueHealth(); !h.Sound() {
		t.Fatalf("queue check: %+v", h)
	}
}
