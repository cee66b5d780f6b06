package intake

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
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

// A member added to a route's team file receives, after the restart that
// reads it, the case history the server still holds; a member removed
// receives nothing (issue 13.5).
func TestTeamChangeAtRestart(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, "")
	dataDir := filepath.Join(dir, "data")
	sam := member(t)
	carol, err := vault.GenerateMember("Carol Deputy")
	if err != nil {
		t.Fatal(err)
	}
	restart := func(members ...*vault.Member) (*config, string) {
		t.Helper()
		var lines []string
		for _, m := range members {
			lines = append(lines, m.TeamLine())
		}
		if err := os.WriteFile(filepath.Join(dir, "team.txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		var logs testkit.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		if err := serve(ctx, cfg, serveOptions{DataDir: dataDir, Listen: "127.0.0.1:0", Logger: zerolog.New(&logs), Ready: func(net.Addr) { cancel() }}); err != nil {
			t.Fatal(err)
		}
		return cfg, logs.String()
	}
	staffFor := func(cfg *config) (*staffFixture, func()) {
		store, err := openStore(dataDir, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return &staffFixture{store: store, h: NewStaffHandler(store, cfg.teamsByRoute(), zerolog.Nop())}, func() { store.Close() }
	}

	// Sam alone: three reports, one of them answered; Sam has them all.
	cfg, _ := restart(sam)
	store, err := openStore(dataDir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	team := cfg.Routes[0].Team
	for _, text := range []string{"one", "two", "three"} {
		_, err := store.CreateThread("safeguarding", &vault.Envelope{Fields: []vault.Field{{Name: "message", Value: text}}}, team.Recipients())
		if err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	f, done := staffFor(cfg)
	items := f.items(t, sam, "").Items
	reply, _ := json.Marshal(staff.ReplyRequest{Thread: items[0].Thread, ID: "0b9c2f3e-8a6d-4a1e-9c55-3f1b7d2e6a90",
		Sealed: sealReplyTo(t, team)})
	if w := f.do(signedReq(t, sam, "POST", staff.RepliesPath, "", reply)); w.Code != http.StatusOK {
		t.Fatalf("reply: %d %s", w.Code, w.Body)
	}
	items = f.items(t, sam, "").Items
	var ids []string
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	ack, _ := json.Marshal(staff.AckRequest{IDs: ids})
	f.do(signedReq(t, sam, "POST", staff.AcksPath, "", ack))
	if left := f.items(t, sam, "").Items; len(left) != 0 {
		t.Fatalf("%d items left for Sam", len(left))
	}
	done()

	// Carol joins: after the restart she receives all four.
	cfg, logs := restart(sam, carol)
	if !strings.Contains(logs, `"joined":4`) {
		t.Errorf("the start-up log does not say 4 items wait for the new member:\n%s", logs)
	}
	f, done = staffFor(cfg)
	forCarol := f.items(t, carol, "").Items
	if len(forCarol) != 4 || len(f.items(t, sam, "").Items) != 0 {
		t.Fatalf("after Carol joined: %d items for her, want 4", len(forCarol))
	}
	for _, it := range forCarol {
		if it.Kind == vault.KindReport {
			if _, err := vault.Open(it.Sealed, sam.Identity()); err != nil {
				t.Fatal(err)
			}
		}
	}
	done()

	// Sam leaves before Carol has acknowledged anything: Sam's key is
	// refused, and the items still wait for Carol alone.
	cfg, _ = restart(carol)
	f, done = staffFor(cfg)
	defer done()
	wantUnauthorized(t, f.do(signedReq(t, sam, "GET", staff.ItemsPath, "", nil)))
	if got := f.items(t, carol, "").Items; len(got) != 4 {
		t.Fatalf("Carol: %d items", len(got))
	}
	// A new report now is Carol's only.
	if _, err := f.store.CreateThread("safeguarding", &vault.Envelope{Fields: []vault.Field{{Name: "message", Value: "four"}}}, cfg.Routes[0].Team.Recipients()); err != nil {
		t.Fatal(err)
	}
	got := f.items(t, carol, "").Items
	if len(got) != 5 {
		t.Fatalf("Carol: %d items", len(got))
	}
	if _, err := vault.Open(got[4].Sealed, sam.Identity()); err == nil {
		t.Fatal("a report after Sam left is sealed to Sam")
	}
}

// sealReplyTo seals a team reply to team alone (the reporter's key does
// not matter here).
func sealReplyTo(t *testing.T, team *vault.Team) []byte {
	t.Helper()
	sealed, err := vault.Seal(&vault.Envelope{Kind: vault.KindReply, Day: vault.Today(time.Now()),
		Fields: []vault.Field{{Name: "message", Value: "we hear you"}}, Author: "Sam Lead"}, team.Recipients()...)
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

// A member asks for everything again: the items still held on their routes
// are served to them again, and to nobody else; asking again within ten
// minutes is answered 429; the log names the request's class only.
func TestStaffResend(t *testing.T) {
	f := newStaffFixture(t)
	clock := time.Now()
	h := newStaffHandler(f.store, newLiveTeams(newTeamSet(f.teams)), zerolog.New(f.logs))
	h.now = func() time.Time { return clock }
	f.h = h.routes()
	f.report(t, "students", "one")
	f.report(t, "students", "two")
	f.report(t, "staff", "three")
	ackAll := func(m *vault.Member) {
		var ids []string
		for _, it := range f.items(t, m, "").Items {
			ids = append(ids, it.ID)
		}
		body, _ := json.Marshal(staff.AckRequest{IDs: ids})
		if w := f.do(signedReq(t, m, "POST", staff.AcksPath, "", body)); w.Code != http.StatusOK {
			t.Fatalf("ack: %d", w.Code)
		}
	}
	ackAll(f.alice)
	ackAll(f.bob)
	if n := len(f.items(t, f.alice, "").Items) + len(f.items(t, f.bob, "").Items); n != 0 {
		t.Fatalf("%d items left", n)
	}
	f.logs.Reset()
	resp := decodeJSON[staff.ResendResponse](t, f.do(signedReq(t, f.alice, "POST", staff.ResendPath, "", nil)))
	if resp.Items != 2 {
		t.Fatalf("resend: %d items, want Alice's route's 2", resp.Items)
	}
	if got := f.items(t, f.alice, "").Items; len(got) != 2 || got[0].Route != "students" {
		t.Fatalf("Alice after her resend: %d items", len(got))
	}
	if got := f.items(t, f.bob, "").Items; len(got) != 0 {
		t.Fatalf("Bob after Alice's resend: %d items", len(got))
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "asked for every item again") || strings.Contains(logs, "Alice") ||
		strings.Contains(logs, vault.FormatSigningKey(f.alice.SigningPublic())) || strings.Contains(logs, `"items"`) {
		t.Errorf("the log says more than the class of the request:\n%s", logs)
	}
	// Again at once: refused, kindly.
	w := f.do(signedReq(t, f.alice, "POST", staff.ResendPath, "", nil))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("a second resend: %d %s", w.Code, w.Body)
	}
	// Bob is not held back by Alice's asking.
	if w := f.do(signedReq(t, f.bob, "POST", staff.ResendPath, "", nil)); w.Code != http.StatusOK {
		t.Fatalf("Bob's resend: %d", w.Code)
	}
	clock = clock.Add(resendEvery + time.Second)
	if w := f.do(signedReq(t, f.alice, "POST", staff.ResendPath, "", nil)); w.Code != http.StatusOK {
		t.Fatalf("a resend ten minutes later: %d", w.Code)
	}
	// Signed like every request; a body or another method is refused.
	wantUnauthorized(t, f.do(signedReq(t, f.alice, "POST", staff.ResendPath, "", []byte("{}"))))
	wantUnauthorized(t, f.do(signedReq(t, f.eve, "POST", staff.ResendPath, "", nil)))
	if w := f.do(signedReq(t, f.alice, "GET", staff.ResendPath, "", nil)); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET resend: %d", w.Code)
	}
}
