package vault

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzVerifyStaffRequest feeds arbitrary header values to the staff-channel
// verifier: it must never panic, never accept a request it did not see
// signed, and only ever answer ErrUnauthorized.
func FuzzVerifyStaffRequest(f *testing.F) {
	m, err := GenerateMember("Fuzz Lead")
	if err != nil {
		f.Fatal(err)
	}
	team := &Team{Members: []TeamMember{{Name: m.Name, Recipient: m.Recipient(), SignKey: m.SigningPublic()}}}
	now := time.Unix(1_800_000_000, 0)
	sig, err := SignRequest(m, "GET", "/staff/v1/items", "after=0", now, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sig.Member, sig.Time, sig.Nonce, sig.Signature, "after=0")
	f.Add(sig.Member, "-1", strings.Repeat("0", 32), sig.Signature, "")
	f.Add("ed25519:", "", "", "", "")
	f.Fuzz(func(t *testing.T, member, ts, nonce, signature, query string) {
		v := NewVerifier(map[string]*Team{"safeguarding": team}, func() time.Time { return now })
		h := map[string]string{HeaderMember: member, HeaderTime: ts, HeaderNonce: nonce, HeaderSignature: signature}
		got, err := v.Verify("GET", "/staff/v1/items", query, func(k string) string { return h[k] }, nil)
		if err != nil {
			if got != nil || !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("refusal with a member or another error: %v", err)
			}
			return
		}
		if member != sig.Member || ts != sig.Time || nonce != sig.Nonce || signature != sig.Signature || query != "after=0" {
			t.Fatal("accepted a request that was never signed")
		}
	})
}

// FuzzParseMember: a decrypted identity file that is not exactly what
// SaveMember writes is refused, without echoing what it held.
func FuzzParseMember(f *testing.F) {
	m, _ := GenerateMember("Fuzz Lead")
	f.Add(string(m.marshal()))
	f.Add(memberHeader + "\nname: x\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseMember([]byte(s))
		if err != nil {
			if got != nil {
				t.Fatal("member with error")
			}
			for _, line := range strings.Split(s, "\n") {
				if len(line) > 12 && strings.Contains(err.Error(), line) {
					t.Fatal("error echoes the file")
				}
			}
			return
		}
		if got.identity == nil || got.signing == nil || checkName(got.Name) != nil {
			t.Fatal("incomplete member accepted")
		}
	})
}
