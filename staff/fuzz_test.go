package staff

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hearken-project/hearken/vault"
)

// FuzzVerify feeds arbitrary header values to the staff-channel
// verifier: it must never panic, never accept a request it did not see
// signed, and only ever answer the one "unauthorized" error.
func FuzzVerify(f *testing.F) {
	m, err := vault.GenerateMember("Fuzz Lead")
	if err != nil {
		f.Fatal(err)
	}
	team := &vault.Team{Members: []vault.TeamMember{{Name: m.Name, Recipient: m.Recipient(), SignKey: m.SigningPublic()}}}
	now := time.Unix(1_800_000_000, 0)
	sig, err := Sign(m, "GET", "/staff/v1/items", "after=0", now, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sig.Member, sig.Time, sig.Nonce, sig.Signature, "after=0")
	f.Add(sig.Member, "-1", strings.Repeat("0", 32), sig.Signature, "")
	f.Add("ed25519:", "", "", "", "")
	f.Fuzz(func(t *testing.T, member, ts, nonce, signature, query string) {
		v := NewVerifier(map[string]*vault.Team{"safeguarding": team}, func() time.Time { return now })
		h := map[string]string{headerMember: member, headerTime: ts, headerNonce: nonce, headerSignature: signature}
		got, err := v.Verify("GET", "/staff/v1/items", query, func(k string) string { return h[k] }, nil)
		if err != nil {
			if got != nil || !errors.Is(err, errUnauthorized) {
				t.Fatalf("refusal with a member or another error: %v", err)
			}
			return
		}
		if member != sig.Member || ts != sig.Time || nonce != sig.Nonce || signature != sig.Signature || query != "after=0" {
			t.Fatal("accepted a request that was never signed")
		}
	})
}

// FuzzItemsJSON checks that AppendJSON writes what json.Marshal writes,
// whatever the strings and bytes of a page.
func FuzzItemsJSON(f *testing.F) {
	f.Add("8f0c6b1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b", "safeguarding", "report", "2026-12-01", []byte("age-encryption.org/v1\n"), true, "c1", 0, 2)
	f.Add("<\"\\\u2028\x00é", "", "", "", []byte(nil), false, "", 3, 1)
	f.Add("", "", "", "", []byte{}, false, "&", -1, 0)
	f.Fuzz(func(t *testing.T, id, route, kind, day string, sealed []byte, more bool, next string, undeliverable, n int) {
		r := ItemsResponse{More: more, Next: next, Undeliverable: undeliverable}
		if n%4 != 3 {
			r.Items = []Item{}
		}
		for i := 0; i < n%4; i++ {
			r.Items = append(r.Items, Item{ID: id, Thread: day + id, Route: route, Kind: vault.Kind(kind), Day: day, Sealed: sealed})
		}
		want, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.AppendJSON([]byte("x")); string(got) != "x"+string(want) {
			t.Fatalf("AppendJSON:\n%s\njson.Marshal:\n%s", got, want)
		}
	})
}
