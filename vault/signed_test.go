package vault

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
)

const (
	testThread = "4c13f8e8-aaec-4de0-bcfd-c2fe2bb649c0"
	testItem   = "8c4b7c75-9ae0-490a-9aae-2b50bba31c8b"
)

func signedReply(t *testing.T, m *Member, text string) *Envelope {
	t.Helper()
	e, err := SignItem(m, &Signed{Thread: testThread, ID: testItem, Kind: KindReply, Lamport: 7,
		Day: "2026-03-10", Route: "students", Fields: []Field{{Name: "message", Value: text}}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestSignedRoundTrip seals a signed reply, opens it as a colleague and as
// the reporter, and verifies it: the words and author come from the signed
// content, and the plaintext stays readable JSON.
func TestSignedRoundTrip(t *testing.T) {
	ms, team := testTeam(t, 2)
	reporter, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	// Characters encoding/json escapes, so the exact bytes matter.
	text := "We <will> help & \u2028 you"
	sealed, err := Seal(signedReply(t, ms[0], text), append([]age.Recipient{reporter.Recipient()}, team.Recipients()...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []age.Identity{ms[1].Identity(), reporter} {
		e, err := Open(sealed, id)
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind != KindReply || e.Field("message") != text || e.Author != "Lead 1" || e.Day != "2026-03-10" {
			t.Fatalf("opened %+v", e)
		}
		s, err := e.Verify(testThread, testItem)
		if err != nil {
			t.Fatal(err)
		}
		if s.Author != FormatSigningKey(ms[0].SigningPublic()) || s.Lamport != 7 || s.Route != "students" {
			t.Errorf("signed content %+v", s)
		}
	}
	// age -d shows JSON a person can read.
	r, err := age.Decrypt(bytes.NewReader(sealed), ms[1].Identity())
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	plain.ReadFrom(r)
	var generic map[string]any
	if err := json.Unmarshal(bytes.TrimRight(plain.Bytes(), " "), &generic); err != nil {
		t.Fatalf("the plaintext is not JSON: %v", err)
	}
	if _, ok := generic["fields"]; ok {
		t.Error("a signed item carries its words outside the signed content too")
	}
}

// TestSignedRefusals: a changed signed content, another key's signature,
// a replay as another item, case or kind, no signature, and content with
// members the reader does not know are all refused.
func TestSignedRefusals(t *testing.T) {
	ms, team := testTeam(t, 2)
	reseal := func(e *Envelope) *Envelope {
		t.Helper()
		sealed, err := Seal(e, team.Recipients()...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Open(sealed, ms[1].Identity())
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	good := signedReply(t, ms[0], "high")

	// Anyone can seal to the team's public keys, so a forger can change
	// the words, but not keep the signature.
	changed := *good
	changed.Signed = bytes.Replace(good.Signed, []byte(`"high"`), []byte(`"low!"`), 1)
	if _, err := reseal(&changed).Verify(testThread, testItem); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed content: %v", err)
	}
	// Signed by someone else, claiming a member's key.
	mallory, _ := GenerateMember("Mallory")
	forged := *good
	forged.Sig = mallory.Sign(signedMessage(good.Signed))
	if _, err := reseal(&forged).Verify(testThread, testItem); !errors.Is(err, ErrBadSignature) {
		t.Errorf("forged signature: %v", err)
	}
	// A genuine item replayed under another id, on another case, or as
	// another kind.
	if _, err := reseal(good).Verify(testThread, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, ErrReplayed) {
		t.Errorf("replayed as another item: %v", err)
	}
	if _, err := reseal(good).Verify("00000000-0000-4000-8000-000000000000", testItem); !errors.Is(err, ErrReplayed) {
		t.Errorf("replayed on another case: %v", err)
	}
	// The top-level kind may not disagree with the signed one: Open
	// refuses the envelope.
	asEvent := *good
	asEvent.Kind = KindEvent
	if sealed, err := Seal(&asEvent, team.Recipients()...); err != nil {
		t.Fatal(err)
	} else if _, err := Open(sealed, ms[1].Identity()); !errors.Is(err, ErrMalformed) {
		t.Errorf("kind changed outside the signature: %v", err)
	}
	// No signature at all.
	plain := &Envelope{Kind: KindReply, Day: "2026-03-10", Fields: []Field{{Name: "message", Value: "hi"}}}
	if _, err := reseal(plain).Verify(testThread, testItem); !errors.Is(err, ErrUnsigned) {
		t.Errorf("unsigned: %v", err)
	}
	// An event must be signed.
	if sealed, err := Seal(&Envelope{Kind: KindEvent, Day: "2026-03-10"}, team.Recipients()...); err != nil {
		t.Fatal(err)
	} else if _, err := Open(sealed, ms[1].Identity()); !errors.Is(err, ErrMalformed) {
		t.Errorf("unsigned event: %v", err)
	}
	// Signed content with a member this reviewer does not know is refused,
	// even with a good signature: it would show less than was signed.
	extra := []byte(strings.Replace(string(good.Signed), `"lamport":7`, `"lamport":7,"secret":"x"`, 1))
	sneaky := &Envelope{Kind: KindReply, Day: good.Day, Route: good.Route, Signed: extra, Sig: ms[0].Sign(signedMessage(extra))}
	if sealed, err := Seal(sneaky, team.Recipients()...); err != nil {
		t.Fatal(err)
	} else if _, err := Open(sealed, ms[1].Identity()); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown signed member: %v", err)
	}
	// A signature of the wrong length.
	short := *good
	short.Sig = good.Sig[:ed25519.SignatureSize-1]
	if _, err := reseal(&short).Verify(testThread, testItem); !errors.Is(err, ErrBadSignature) {
		t.Errorf("short signature: %v", err)
	}
}

// TestSignItemChecks refuses to sign what is not a team item.
func TestSignItemChecks(t *testing.T) {
	ms, _ := testTeam(t, 1)
	if _, err := SignItem(ms[0], &Signed{Kind: KindReport, Lamport: 1}); err == nil {
		t.Error("signed a report")
	}
	if _, err := SignItem(ms[0], &Signed{Kind: KindEvent}); err == nil {
		t.Error("signed an event without a Lamport time")
	}
}

// FuzzVerifySigned feeds arbitrary signed content and signatures to
// Verify: it never panics, and accepts only what the named key signed, for
// the item it names.
func FuzzVerifySigned(f *testing.F) {
	m, _ := GenerateMember("Fuzz Lead")
	good, _ := SignItem(m, &Signed{Thread: testThread, ID: testItem, Kind: KindEvent, Lamport: 1, Day: "2026-03-10",
		Route: "students", Data: []byte(`{"type":"note","text":"x"}`)})
	f.Add([]byte(good.Signed), good.Sig)
	f.Add([]byte(`{"lamport":1}`), []byte("short"))
	f.Add([]byte(`null`), []byte(nil))
	f.Fuzz(func(t *testing.T, signed, sig []byte) {
		e := &Envelope{Kind: KindEvent, Signed: signed, Sig: sig}
		s, err := e.Verify(testThread, testItem)
		if err != nil {
			if s != nil {
				t.Fatal("content with an error")
			}
			return
		}
		if s.Thread != testThread || s.ID != testItem || s.Kind != KindEvent {
			t.Fatal("accepted content made for another item")
		}
		pub, err := ParseSigningKey(s.Author)
		if err != nil || !ed25519.Verify(pub, signedMessage(signed), sig) {
			t.Fatal("accepted a bad signature")
		}
	})
}
