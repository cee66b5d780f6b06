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
