package vault

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
)

func sampleReport() *Envelope {
	return &Envelope{
		Kind: KindReport, Day: "2026-11-27", Route: "safeguarding",
		Fields:      []Field{{"message", "someone in year 7 is being hurt at break"}, {"danger", "no"}},
		Attachments: []Attachment{{Name: "photo.png", Type: "image/png", Cleaned: true, Data: []byte{1, 2, 3}}},
	}
}

func TestSealOpen(t *testing.T) {
	ms, team := testTeam(t, 3)
	e := sampleReport()
	sealed, err := Seal(e, team.Recipients()...)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("year 7")) {
		t.Fatal("plaintext in sealed envelope")
	}
	for _, m := range ms {
		got, err := Open(sealed, m.Identity())
		if err != nil {
			t.Fatal(err)
		}
		if got.Field("message") != e.Field("message") || got.Attachments[0].Name != "photo.png" || !bytes.Equal(got.Attachments[0].Data, []byte{1, 2, 3}) {
			t.Fatalf("round trip mismatch: %+v", got)
		}
	}
}

func TestSealPadding(t *testing.T) {
	_, team := testTeam(t, 1)
	sizes := map[int]bool{}
	for _, n := range []int{1, 100, 1000, 3000} {
		e := sampleReport()
		e.Fields[0].Value = strings.Repeat("a", n)
		sealed, err := Seal(e, team.Recipients()...)
		if err != nil {
			t.Fatal(err)
		}
		sizes[len(sealed)] = true
	}
	if len(sizes) != 1 {
		t.Fatalf("messages in one bucket sealed to %d different sizes", len(sizes))
	}
	for _, tt := range []struct{ in, want int }{{0, 4096}, {4096, 4096}, {4097, 16384}, {1 << 20, 1 << 20}, {5 << 20, 8 << 20}, {9 << 20, 16 << 20}} {
		if got := paddedSize(tt.in); got != tt.want {
			t.Errorf("paddedSize(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// Seal writes into a buffer of the sealed envelope's exact length, header
// and chunk tags included, so it is allocated once and never grows: for
// every bucket up to the first 8 MiB multiple, and teams of one to four.
func TestSealSizedOnce(t *testing.T) {
	_, team := testTeam(t, 4)
	reply, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	for members := 1; members <= 4; members++ {
		rcpts := append(team.Recipients()[:members], reply.Recipient())
		for _, bucket := range append(buckets, bigBucket) {
			e := sampleReport()
			e.Fields[0].Value = strings.Repeat("a", bucket-1000)
			sealed, err := Seal(e, rcpts...)
			if err != nil {
				t.Fatal(err)
			}
			if want := sealedSize(bucket, rcpts); len(sealed) != want || cap(sealed) != want {
				t.Errorf("%d recipients, %d bytes: sealed %d bytes into %d, want exactly %d", len(rcpts), bucket, len(sealed), cap(sealed), want)
			}
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ms, team := testTeam(t, 2)
	other, _ := GenerateMember("Outsider")
	e := sampleReport()
	e.Fields[0].Value = strings.Repeat("long report ", 10000) // several chunks
	sealed, err := Seal(e, team.Recipients()...)
	if err != nil {
		t.Fatal(err)
	}
	hdrEnd := bytes.Index(sealed, []byte("\n---")) + 1

	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name string
		in   []byte
		id   age.Identity
		want error
	}{
		{"wrong key", sealed, other.Identity(), ErrWrongKey},
		{"payload bit flip", flip(len(sealed) - 100), ms[0].Identity(), ErrTampered},
		{"first chunk flip", flip(hdrEnd + 80), ms[0].Identity(), ErrTampered},
		{"header MAC flip", flip(hdrEnd + 6), ms[0].Identity(), ErrTampered},
		{"truncated payload", sealed[:len(sealed)-1000], ms[0].Identity(), ErrTruncated},
		{"truncated at chunk boundary", sealed[:len(sealed)-(len(sealed)-hdrEnd)/2], ms[0].Identity(), ErrTruncated},
		{"truncated header", sealed[:hdrEnd-10], ms[0].Identity(), ErrTruncated},
		{"only the magic", sealed[:10], ms[0].Identity(), ErrTruncated},
		{"empty", nil, ms[0].Identity(), ErrTruncated},
		{"not age", []byte("hello there, this is plain text"), ms[0].Identity(), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Open(tt.in, tt.id)
			if got != nil {
				t.Fatal("partial plaintext returned")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestOpenRejectsNonEnvelope(t *testing.T) {
	ms, team := testTeam(t, 1)
	var buf bytes.Buffer
	w, _ := age.Encrypt(&buf, team.Recipients()...)
	w.Write([]byte(`{"kind":"something-else"}`))
	w.Close()
	if _, err := Open(buf.Bytes(), ms[0].Identity()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("got %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	m, _ := GenerateMember("Fuzz")
	sealed, _ := Seal(sampleReport(), m.Recipient())
	f.Add(sealed)
	f.Add(sealed[:200])
	f.Add([]byte("age-encryption.org/v1\n-> X25519 abc\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := Open(in, m.Identity())
		if err != nil {
			if e != nil {
				t.Fatal("plaintext with error")
			}
			for _, s := range []error{ErrWrongKey, ErrTampered, ErrTruncated, ErrMalformed, ErrTooLarge} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("unclassified error %v", err)
		}
	})
}

// TestOpenAppendedIsNotTruncated shows bytes added to the end of a sealed
// envelope are a change, not a cut: only an envelope shorter than its
// bucket is said to be cut short (issue 8.8).
func TestOpenAppendedIsNotTruncated(t *testing.T) {
	ms, team := testTeam(t, 2)
	small, err := Seal(sampleReport(), team.Recipients()...)
	if err != nil {
		t.Fatal(err)
	}
	e := sampleReport()
	e.Fields[0].Value = strings.Repeat("long report ", 10000) // a 256 KiB bucket: four chunks
	big, err := Seal(e, team.Recipients()...)
	if err != nil {
		t.Fatal(err)
	}
	for name, sealed := range map[string][]byte{"4 KiB": small, "256 KiB": big} {
		for _, n := range []int{1, 16, 17, 100, 5000, 64 << 10, 70000} {
			b := append(bytes.Clone(sealed), bytes.Repeat([]byte{0x5a}, n)...)
			if _, err := Open(b, ms[0].Identity()); !errors.Is(err, ErrTampered) {
				t.Errorf("%s with %d bytes added: got %v, want ErrTampered", name, n, err)
			}
		}
		for _, n := range []int{1, 16, 17, 100, 3000} {
			if _, err := Open(sealed[:len(sealed)-n], ms[0].Identity()); !errors.Is(err, ErrTruncated) {
				t.Errorf("%s cut by %d bytes: got %v, want ErrTruncated", name, n, err)
			}
		}
	}
}

// TestOpenDamagedStanza shows a change to the header that Hearken's sealing
// could never have made is called a change, not a wrong key: every stanza
// of a Hearken envelope is an ML-KEM-768 + X25519 one. A change inside the
// stanza sealed to this member cannot be told from one sealed to others
// (ML-KEM rejects implicitly), and the error says both (issue 8.8).
func TestOpenDamagedStanza(t *testing.T) {
	ms, team := testTeam(t, 2)
	sealed, err := Seal(sampleReport(), team.Recipients()...)
	if err != nil {
		t.Fatal(err)
	}
	// The first stanza is ms[0]'s: team order.
	start := bytes.Index(sealed, []byte("\n-> mlkem768x25519 ")) + len("\n-> ")
	for i := start; i < start+len("mlkem768x25519"); i++ {
		for bit := range 8 {
			b := bytes.Clone(sealed)
			b[i] ^= 1 << bit
			if b[i] == ' ' || b[i] == '\n' {
				continue // no longer a stanza's type: age refuses the header itself
			}
			if _, err := Open(b, ms[0].Identity()); !errors.Is(err, ErrTampered) {
				t.Fatalf("stanza type %q: got %v, want ErrTampered", b[start:start+14], err)
			}
		}
	}
	other, _ := GenerateMember("Outsider")
	_, err = Open(sealed, other.Identity())
	if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "sealed to others") || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("wrong key: %v", err)
	}
}

// Anyone with the team's public keys can seal to it, so what opens is not
// trusted to be an envelope: JSON that does not decode, or decodes to no
// kind Hearken writes, is ErrMalformed, with no partial envelope.
func TestOpenSealedNonsense(t *testing.T) {
	ms, team := testTeam(t, 1)
	for _, plain := range []string{"", "not json at all", `{"kind":"report"`, `["report"]`, `{"kind":"report","fields":"x"}`, `{"kind":""}`} {
		var buf bytes.Buffer
		w, err := age.Encrypt(&buf, team.Recipients()...)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(plain))
		w.Close()
		if e, err := Open(buf.Bytes(), ms[0].Identity()); e != nil || !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: got %v, want ErrMalformed", plain, err)
		}
	}
}

// An envelope cut inside its payload's first chunk, so that not even one
// chunk's tag remains, is cut short; one larger than any Hearken seals is
// refused before any decryption.
func TestOpenCutToNothing(t *testing.T) {
	ms, team := testTeam(t, 1)
	sealed, err := Seal(sampleReport(), team.Recipients()...)
	if err != nil {
		t.Fatal(err)
	}
	hdr, _, ok := payloadSize(sealed)
	if !ok {
		t.Fatal("no header")
	}
	for _, n := range []int{hdr, hdr + payloadNonce, hdr + payloadNonce + payloadTag} {
		if e, err := Open(sealed[:n], ms[0].Identity()); e != nil || !errors.Is(err, ErrTruncated) {
			t.Errorf("cut to %d bytes of the payload: got %v, want ErrTruncated", n-hdr, err)
		}
	}
	huge := append(bytes.Clone(sealed), make([]byte, maxSealedSize)...)
	if e, err := Open(huge, ms[0].Identity()); e != nil || !errors.Is(err, ErrTooLarge) {
		t.Errorf("an envelope over the limit: got %v, want ErrTooLarge", err)
	}
}
