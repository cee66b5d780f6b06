// genv1 writes a schema-1 store, as main's vault wrote it, for the
// migration test (TestMigrateV1). It builds only against the vault of
// before queues per route: it was run from a copy of main at 8f59e67, as
// go run ./cmd/genv1 OUTDIR 8f59e67, and the store gzipped.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/hearken-project/hearken/vault"
)

type manifestItem struct {
	ID     string   `json:"id"`
	Thread string   `json:"thread"`
	Route  string   `json:"route"`
	Kind   string   `json:"kind"`
	Sealed string   `json:"sealed_sha256"`
	Acked  []string `json:"acked_by"`
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func main() {
	out := os.Args[1]
	day := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	s, err := vault.OpenStore(filepath.Join(out, "v1-store.db"), &vault.Options{Now: func() time.Time { return day }})
	must(err)
	lead, err := vault.GenerateMember("Lead")
	must(err)
	head, err := vault.GenerateMember("Head")
	must(err)
	students := []age.Recipient{lead.Recipient()}
	heads := []age.Recipient{head.Recipient()}
	team := map[string][]string{"students": {"ed25519:A", "ed25519:B"}, "head": {"ed25519:H"}}
	teamOf := func(r string) []string { return team[r] }
	rep := func(text string) *vault.Envelope {
		return &vault.Envelope{Fields: []vault.Field{{Name: "message", Value: text}}}
	}
	var receipts []string
	create := func(route, text string, rs []age.Recipient) vault.Receipt {
		r, err := s.CreateThread(route, rep(text), rs)
		must(err)
		receipts = append(receipts, r.Reveal())
		return r
	}
	r1 := create("students", "one", students)
	create("head", "about the lead", heads)
	create("students", "three", students)
	must(s.FollowUp(r1, rep("one more"), students))
	create("students", "four", students)
	create("head", "about the lead again", heads)

	all, err := s.Pending(0, 100, nil, "")
	must(err)
	byText := map[int]vault.Item{}
	for i, it := range all {
		byText[i] = it
	}
	// 0: t1 report, 1: head t2, 2: t3 report, 3: t1 followup, 4: t4 report, 5: head t5
	ack := func(i int, who ...string) {
		for _, w := range who {
			must(s.Ack(all[i].ID, w, teamOf(all[i].Route)))
		}
	}
	ack(0, "ed25519:A", "ed25519:B") // left the queue
	ack(2, "ed25519:A")              // waits for B
	ack(4, "ed25519:A", "ed25519:B") // left the queue, then purged
	ack(5, "ed25519:H")              // left the queue, kept
	// A reply from A on thread 1, sealed to the reporter and the team.
	e, err := vault.Open(all[0].Sealed, lead.Identity())
	must(err)
	rr, err := age.ParseHybridRecipient(e.ReplyTo)
	must(err)
	sealed, err := vault.Seal(&vault.Envelope{Kind: vault.KindReply, Day: vault.Today(day),
		Fields: []vault.Field{{Name: "message", Value: "we hear you"}}, Author: "Lead"}, rr, lead.Recipient())
	must(err)
	_, err = s.AddReply(all[0].Thread, uuid.NewString(), sealed)
	must(err)
	all2, err := s.Pending(0, 100, nil, "")
	must(err)
	reply := all2[len(all2)-1]
	must(s.Ack(reply.ID, "ed25519:A", teamOf("students")))
	n, err := s.PurgeAcked()
	must(err)
	fmt.Println("purged", n)

	everything := append(all, reply)
	acked := map[string][]string{
		all[0].ID: {"ed25519:A", "ed25519:B"}, all[2].ID: {"ed25519:A"}, all[4].ID: {"ed25519:A", "ed25519:B"},
		all[5].ID: {"ed25519:H"}, reply.ID: {"ed25519:A"},
	}
	var items []manifestItem
	for _, it := range everything {
		sum := sha256.Sum256(it.Sealed)
		items = append(items, manifestItem{ID: it.ID, Thread: it.Thread, Route: it.Route, Kind: string(it.Kind),
			Sealed: hex.EncodeToString(sum[:]), Acked: acked[it.ID]})
	}
	pending, err := s.Pending(0, 100, nil, "")
	must(err)
	var waiting []string
	for _, it := range pending {
		waiting = append(waiting, it.ID)
	}
	must(s.Close())
	m := map[string]any{
		"day": vault.Today(day), "receipts": receipts, "items": items, "waiting": waiting,
		"teams": team,
		"note":  "written by genv1 with the vault of main at " + strings.TrimSpace(os.Args[2]),
	}
	b, err := json.MarshalIndent(m, "", "  ")
	must(err)
	must(os.WriteFile(filepath.Join(out, "v1-store.json"), append(b, '\n'), 0o644))
}
