package onion

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/internal/testkit"
)

// RFC 7748 section 6.1: Alice's X25519 key pair. The expected texts were
// computed independently (Python's base64 module).
const (
	alicePrivHex  = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
	alicePubB32   = "QUQPACMJGCTVI5ELPXOLIPXXLIG36OQNEY4BV5HLUSUY5KU3JZVA"
	alicePrivB32  = "O4DW2CTTDCSX2PAWYFZFDMTGIXPUYL4H5PAJSKVRO752KHNZFQVA"
	alicePrivB64  = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="
	torProjectID  = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid"
	torProjectURL = torProjectID + ".onion"
)

func alice(t testing.TB) *ClientKey {
	t.Helper()
	b, _ := hex.DecodeString(alicePrivHex)
	k, err := NewClientKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestClientKeyFormats(t *testing.T) {
	k := alice(t)
	if got, want := k.Public().String(), "descriptor:x25519:"+alicePubB32; got != want {
		t.Errorf("public key text = %s, want %s", got, want)
	}
	line, err := k.AuthPrivate(strings.ToUpper(torProjectURL))
	if err != nil {
		t.Fatal(err)
	}
	if want := torProjectID + ":descriptor:x25519:" + alicePrivB32 + "\n"; line != want {
		t.Errorf("auth_private line = %q, want %q", line, want)
	}
	if got, want := k.controlBlob(), "x25519:"+alicePrivB64; got != want {
		t.Errorf("control blob = %s, want %s", got, want)
	}

	id, k2, err := ParseAuthPrivate(line)
	if err != nil || id != torProjectID || !k2.Equal(k) {
		t.Errorf("ParseAuthPrivate(%q) = %q, %v", line, id, err)
	}
	p, err := ParseClientPublicKey(" DESCRIPTOR:x25519:" + strings.ToLower(alicePubB32) + "\n")
	if err != nil || !p.Equal(k.Public()) || p.IsZero() {
		t.Errorf("ParseClientPublicKey in lower case: %v", err)
	}
	var q ClientPublicKey
	if err := q.UnmarshalText([]byte(k.Public().String())); err != nil || !q.Equal(p) {
		t.Errorf("UnmarshalText: %v", err)
	}
	k3, err := NewClientKey(k.Bytes())
	if err != nil || !k3.Equal(k) {
		t.Errorf("NewClientKey(Bytes()) did not give the key back: %v", err)
	}
}

func TestGenerateClientKey(t *testing.T) {
	a, err := GenerateClientKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateClientKey()
	if err != nil {
		t.Fatal(err)
	}
	if a.Equal(b) || a.Public().Equal(b.Public()) {
		t.Fatal("two generated keys are equal")
	}
	p, err := ParseClientPublicKey(a.Public().String())
	if err != nil || !p.Equal(a.Public()) {
		t.Fatalf("a generated key's text does not parse back: %v", err)
	}
}

func TestClientKeyRedacted(t *testing.T) {
	k := alice(t)
	j, _ := json.Marshal(struct{ K *ClientKey }{k})
	out := fmt.Sprintf("%v %+v %#v %s %x %d %q", k, k, k, k, k, k, k) + string(j)
	if strings.Count(out, "[REDACTED]") != 8 {
		t.Errorf("a ClientKey printed as %s", out)
	}
	secret := strings.ToLower(alicePrivB32[:12])
	if strings.Contains(strings.ToLower(out), secret) || strings.Contains(out, alicePrivHex[:12]) {
		t.Errorf("a ClientKey's secret printed: %s", out)
	}
}

func TestParseKeyRejects(t *testing.T) {
	secret := alicePrivB32
	for _, s := range []string{
		"",
		alicePubB32,
		"descriptor:x25519:",
		"descriptor:x25519:" + alicePubB32[:51],
		"descriptor:x25519:" + alicePubB32 + "A",
		"descriptor:x25519:" + alicePubB32[:51] + "1",         // not base32
		"descriptor:x25519:" + alicePubB32[:51] + "B",         // trailing bits set: not canonical
		"descriptor:ed25519:" + alicePubB32,                   // wrong type
		"descriptor:x25519:" + alicePubB32 + "=",              // padding
		"descriptor:x25519:" + alicePubB32[:40] + "=========", // padding
	} {
		if _, err := ParseClientPublicKey(s); err == nil {
			t.Errorf("ParseClientPublicKey(%q) succeeded", s)
		}
	}
	for _, s := range []string{
		"descriptor:x25519:" + secret,
		torProjectID + "descriptor:x25519:" + secret,
		torProjectID[:55] + "a:descriptor:x25519:" + secret, // bad checksum
		torProjectID + ":descriptor:x25519:" + secret[:50],
	} {
		_, _, err := ParseAuthPrivate(s)
		if err == nil {
			t.Errorf("ParseAuthPrivate(%q) succeeded", s)
		} else if strings.Contains(err.Error(), secret[:10]) {
			t.Errorf("ParseAuthPrivate's error repeats the key: %v", err)
		}
	}
	if _, err := NewClientKey(make([]byte, 31)); err == nil {
		t.Error("NewClientKey took 31 bytes")
	}
}

func TestServiceID(t *testing.T) {
	for _, s := range []string{torProjectID, torProjectURL, strings.ToUpper(torProjectURL), " " + torProjectURL + "\n",
		"duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion"} {
		if id, err := ServiceID(s); err != nil || len(id) != 56 || strings.ToLower(strings.TrimSpace(s))[:56] != id {
			t.Errorf("ServiceID(%q) = %q, %v", s, id, err)
		}
	}
	for _, s := range []string{
		"",
		"example.com",
		torProjectID[:55] + ".onion",
		torProjectID + "a.onion",
		torProjectID[:10] + "b" + torProjectID[11:], // one letter off: checksum
		torProjectID[:55] + "1",                     // not base32
		"www." + torProjectURL,
		"expyuzz4wqqyqhjn.onion", // version 2
	} {
		if _, err := ServiceID(s); err != ErrBadAddress {
			t.Errorf("ServiceID(%q) = %v, want ErrBadAddress", s, err)
		}
	}
}

func FuzzParseKeys(f *testing.F) {
	f.Add("descriptor:x25519:" + alicePubB32)
	f.Add(torProjectID + ":descriptor:x25519:" + alicePrivB32)
	f.Add(torProjectURL)
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := ParseClientPublicKey(s); err == nil {
			if q, err := ParseClientPublicKey(p.String()); err != nil || !q.Equal(p) {
				t.Fatalf("%q parsed, but its text %q does not parse back", s, p.String())
			}
		}
		if id, k, err := ParseAuthPrivate(s); err == nil {
			line, err := k.AuthPrivate(id)
			if err != nil {
				t.Fatal(err)
			}
			if id2, k2, err := ParseAuthPrivate(line); err != nil || id2 != id || !k2.Equal(k) {
				t.Fatalf("%q parsed, but %q does not parse back", s, line)
			}
		}
		if id, err := ServiceID(s); err == nil {
			if id2, err := ServiceID(id); err != nil || id2 != id || len(id) != 56 {
				t.Fatalf("ServiceID(%q) = %q, not stable", s, id)
			}
		}
	})
}

// TestClientKeyUnprintable shows a client key's secret prints under no
// verb, on a value as on a pointer, nested anywhere.
func TestClientKeyUnprintable(t *testing.T) {
	k := alice(t)
	priv, _ := hex.DecodeString(alicePrivHex)
	testkit.Unprintable(t, k, [][]byte{priv}, alicePrivB32[:16])
	testkit.Unprintable(t, *k, [][]byte{priv}, alicePrivB32[:16])
}
