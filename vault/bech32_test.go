package vault

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"strings"
	"testing"

	"filippo.io/age"
)

// bech32Encode writes exactly what age writes: BIP 173's valid strings
// (those it can make from whole bytes), X25519 recipients of every value
// that age parses back and writes the same, and reply keys whose two
// strings are age's own for that identity, and that seal and open.
func TestBech32(t *testing.T) {
	for _, tc := range []struct{ hrp, hex, want string }{
		{"a", "", "a12uel5l"},
		{"an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio", "", "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs"},
		{"abcdef", "00443214c74254b635cf84653a56d7c675be77df", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"},
		{"1", strings.Repeat("00", 51), "11" + strings.Repeat("q", 82) + "c8247j"},
		{"split", "c5f38b70305f519bf66d85fb6cf03058f3dde463ecd7918f2dc743918f2d", "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w"},
	} {
		data, _ := hex.DecodeString(tc.hex)
		if got := bech32Encode(tc.hrp, data); got != tc.want {
			t.Errorf("bech32Encode(%q, %s) = %q, want %q", tc.hrp, tc.hex, got, tc.want)
		}
	}

	for i := range 200 {
		point := make([]byte, 32)
		rand.Read(point)
		if i < 2 {
			point = bytes.Repeat([]byte{byte(i * 0xff)}, 32)
		}
		s := bech32Encode("age", point)
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			t.Fatalf("age does not parse %q: %v", s, err)
		}
		if r.String() != s {
			t.Fatalf("age writes %q, bech32Encode %q", r.String(), s)
		}
	}

	for range 20 {
		k, err := newReplyKey()
		if err != nil {
			t.Fatal(err)
		}
		id, err := age.ParseHybridIdentity(k.secret)
		if err != nil {
			t.Fatal(err)
		}
		if id.String() != k.secret || id.Recipient().String() != k.recipient {
			t.Fatal("a reply key's strings are not those age writes for its identity")
		}
		r, err := age.ParseHybridRecipient(k.recipient)
		if err != nil {
			t.Fatal(err)
		}
		var sealed bytes.Buffer
		w, _ := age.Encrypt(&sealed, r)
		io.WriteString(w, "a reply")
		w.Close()
		out, err := age.Decrypt(&sealed, id)
		if err != nil {
			t.Fatalf("a reply sealed to the recipient does not open with the identity: %v", err)
		}
		if got, _ := io.ReadAll(out); string(got) != "a reply" {
			t.Fatalf("opened %q", got)
		}
	}
}

func BenchmarkReplyKeyEncode(b *testing.B) {
	k, err := newReplyKey()
	if err != nil {
		b.Fatal(err)
	}
	id, _ := age.ParseHybridIdentity(k.secret)
	r := id.Recipient()
	b.Run("age", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = r.String()
		}
	})
	pub, _ := hex.DecodeString(strings.Repeat("5a", 1216))
	b.Run("bech32Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = bech32Encode("age1pq", pub)
		}
	})
}
