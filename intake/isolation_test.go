package intake

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// TestStaffRoutesIsolated shows a member learns nothing of another route's
// activity from the staff channel: everything the server says to Alice, a
// member of "students" only, is byte for byte the same whether or not the
// "staff" route (Bob's) receives reports, follow-ups, replies and
// acknowledgements between her requests. With one counter for every route,
// the positions in her items and in the answer to her reply counted the
// other route's items (issue 8.1).
//
// The two runs start from copies of one store, and every step of Alice's
// draws its randomness from a seed of its own (the page cursors are sealed
// with a random nonce), so the runs differ only in Bob's activity.
func TestStaffRoutesIsolated(t *testing.T) {
	day := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return day }
	alice, err := vault.GenerateMember("Alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := vault.GenerateMember("Bob")
	if err != nil {
		t.Fatal(err)
	}
	team := func(m *vault.Member) *vault.Team {
		tm, err := vault.ParseTeam(strings.NewReader(m.TeamLine()))
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	teams := map[string]*vault.Team{"students": team(alice), "staff": team(bob)}

	// The common start: two reports on Alice's route.
	base := filepath.Join(t.TempDir(), "hearken.db")
	st, err := vault.OpenStore(base, &vault.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var threads []string
	for _, text := range []string{"one", "two"} {
		r, err := st.CreateThread("students", &vault.Envelope{Fields: []vault.Field{{Name: "message", Value: text}}}, teams["students"].Recipients())
		if err != nil {
			t.Fatal(err)
		}
		ti, err := st.Thread(r)
		if err != nil {
			t.Fatal(err)
		}
		threads = append(threads, ti.ID)
	}
	st.Close()
	raw, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	replies := make([][]byte, 3)
	for i := range replies {
		if replies[i], err = vault.Seal(&vault.Envelope{Kind: vault.KindReply, Day: vault.Today(day), Author: "Alice",
			Fields: []vault.Field{{Name: "message", Value: "we hear you"}}}, teams["students"].Recipients()...); err != nil {
			t.Fatal(err)
		}
	}
	replyIDs := []string{"6d1f0b2a-3c4e-4f5a-8b6c-7d8e9f0a1b2c", "7e2a1c3b-4d5f-4a6b-9c7d-8e9fa0b1c2d3", "8f3b2d4c-5e6a-4b7c-8d8e-9fa0b1c2d3e4"}
	reply := func(i int) []byte {
		b, _ := json.Marshal(staff.ReplyRequest{Thread: threads[i%2], ID: replyIDs[i], Sealed: replies[i]})
		return b
	}

	run := func(busy bool) [][]byte {
		path := filepath.Join(t.TempDir(), "hearken.db")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		open := func() (*vault.Store, *staffFixture) {
			st, err := vault.OpenStore(path, &vault.Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			f := &staffFixture{store: st, teams: teams, logs: &bytes.Buffer{}}
			f.h = NewStaffHandler(st, teams, zerolog.New(f.logs))
			return st, f
		}
		var answers [][]byte
		step := uint64(0)
		answer := func(f *staffFixture, method, path, query string, body []byte) []byte {
			step++
			cryptotest.SetGlobalRandom(t, step)
			w := f.do(signedReq(t, alice, method, path, query, body))
			if w.Code != 200 {
				t.Fatalf("%s %s?%s: %d %s\n%s", method, path, query, w.Code, w.Body, f.logs)
			}
			answers = append(answers, w.Body.Bytes())
			return w.Body.Bytes()
		}
		// Bob's route at work: reports, a follow-up, Bob's reply and his
		// acknowledgements. Randomness here is whatever it is.
		bobWorks := func(st *vault.Store, f *staffFixture, reports bool) {
			if !busy {
				return
			}
			if reports {
				for range 3 {
					r, err := st.CreateThread("staff", &vault.Envelope{Fields: []vault.Field{{Name: "message", Value: "about the lead"}}}, teams["staff"].Recipients())
					if err != nil {
						t.Fatal(err)
					}
					if err := st.FollowUp(r, &vault.Envelope{Fields: []vault.Field{{Name: "message", Value: "more"}}}, teams["staff"].Recipients()); err != nil {
						t.Fatal(err)
					}
				}
			}
			items := f.items(t, bob, "").Items
			body, _ := json.Marshal(staff.ReplyRequest{Thread: items[0].Thread, ID: uuid.NewString(), Sealed: []byte("age-encryption.org/v1\n-> x\n")})
			f.do(signedReq(t, bob, "POST", staff.RepliesPath, "", body))
			ack, _ := json.Marshal(staff.AckRequest{IDs: []string{items[0].ID}})
			f.do(signedReq(t, bob, "POST", staff.AcksPath, "", ack))
		}

		// Replies on Alice's route, with Bob's route busy between them.
		st, f := open()
		bobWorks(st, f, true)
		answer(f, "POST", staff.RepliesPath, "", reply(0))
		bobWorks(st, f, true)
		answer(f, "POST", staff.RepliesPath, "", reply(1))
		bobWorks(st, f, true)
		// A store makes reply keys ahead in the background once it has
		// made a thread; starting again stops that, so that nothing but
		// Alice's steps draws randomness from here on.
		st.Close()
		st, f = open()
		defer st.Close()
		// Alice syncs a page at a time, as the reviewer does.
		var page staff.ItemsResponse
		json.Unmarshal(answer(f, "GET", staff.ItemsPath, "limit=2", nil), &page)
		bobWorks(st, f, false)
		for pages := 1; page.Next != ""; pages++ {
			if pages > 10 {
				t.Fatal("the pages do not end")
			}
			next := page.Next
			page = staff.ItemsResponse{}
			json.Unmarshal(answer(f, "GET", staff.ItemsPath, "limit=2&cursor="+next, nil), &page)
			bobWorks(st, f, false)
		}
		// Her reply, and the same push again.
		answer(f, "POST", staff.RepliesPath, "", reply(2))
		bobWorks(st, f, false)
		answer(f, "POST", staff.RepliesPath, "", reply(2))
		bobWorks(st, f, false)
		answer(f, "GET", staff.ItemsPath, "", nil)
		return answers
	}
	quiet := run(false)
	busy := run(true)
	if len(quiet) != len(busy) || len(quiet) == 0 {
		t.Fatalf("%d answers without the other route's activity, %d with it", len(quiet), len(busy))
	}
	for i := range quiet {
		if !bytes.Equal(quiet[i], busy[i]) {
			t.Errorf("answer %d differs with the other route's activity:\nwithout: %.400s\nwith:    %.400s", i, quiet[i], busy[i])
		}
	}
}
