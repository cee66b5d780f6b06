package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/internal/testkit"
)

func TestReceiptRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		r, err := NewReceipt()
		if err != nil {
			t.Fatal(err)
		}
		s := r.Reveal()
		if len(s) != 29 || strings.Count(s, "-") != 5 {
			t.Fatalf("unexpected shape %d %d", len(s), strings.Count(s, "-"))
		}
		if seen[s] {
			t.Fatal("duplicate receipt")
		}
		seen[s] = true
		for _, variant := range []string{s, strings.ToLower(s), strings.ReplaceAll(s, "-", ""), strings.ReplaceAll(s, "-", " "), " " + s + "\n"} {
			p, err := ParseReceipt(variant)
			if err != nil {
				t.Fatalf("variant did not parse: %v", err)
			}
			if !p.Equal(r) {
				t.Fatal("variant parsed to a different receipt")
			}
		}
	}
}

func TestReceiptConfusables(t *testing.T) {
	// Build a receipt whose symbols include 1 and 0, then type them as I, L, O.
	for range 500 {
		r, _ := NewReceipt()
		s := r.Reveal()
		if !strings.ContainsAny(s, "10") {
			continue
		}
		typed := strings.NewReplacer("1", "l", "0", "O").Replace(s)
		p, err := ParseReceipt(typed)
		if err != nil || !p.Equal(r) {
			t.Fatalf("confusables not forgiven: %v", err)
		}
		typed = strings.NewReplacer("1", "I", "0", "o").Replace(s)
		if p, err := ParseReceipt(typed); err != nil || !p.Equal(r) {
			t.Fatalf("confusables not forgiven: %v", err)
		}
		return
	}
	t.Fatal("no receipt with 1 or 0 in 500 tries")
}

func TestReceiptTypos(t *testing.T) {
	r, _ := NewReceipt()
	canon := strings.ReplaceAll(r.Reveal(), "-", "")
	// Every single-symbol substitution is caught.
	for i := range canon {
		for _, c := range crockford {
			if byte(c) == canon[i] {
				continue
			}
			typo := canon[:i] + string(c) + canon[i+1:]
			if _, err := ParseReceipt(typo); !errors.Is(err, ErrReceiptTypo) {
				t.Fatalf("substitution at %d not caught: %v", i, err)
			}
		}
	}
	// Every swap of neighbouring different data symbols is caught.
	for i := 0; i+1 < receiptData; i++ {
		if canon[i] == canon[i+1] {
			continue
		}
		b := []byte(canon)
		b[i], b[i+1] = b[i+1], b[i]
		if _, err := ParseReceipt(string(b)); !errors.Is(err, ErrReceiptTypo) {
			t.Fatalf("swap at %d not caught: %v", i, err)
		}
	}
}

func TestReceiptMalformed(t *testing.T) {
	r, _ := NewReceipt()
	s := r.Reveal()
	for _, in := range []string{"", "hello", s[:len(s)-1], s + "A", strings.Replace(s, s[:1], "U", 1), s[:5] + "*" + s[6:], strings.Repeat("A", 300), "ÄBCD-" + s[5:]} {
		_, err := ParseReceipt(in)
		if !errors.Is(err, errReceiptMalformed) {
			t.Errorf("input of length %d: got %v", len(in), err)
		}
		if err != nil && in != "" && strings.Contains(err.Error(), in) {
			t.Error("error echoes its input")
		}
	}
}

func TestReceiptRedacted(t *testing.T) {
	r, _ := NewReceipt()
	code := strings.ReplaceAll(r.Reveal(), "-", "")
	j, _ := json.Marshal(struct{ R Receipt }{r})
	for _, s := range []string{fmt.Sprint(r), fmt.Sprintf("%v %+v %#v %s %x %d %q", r, r, r, r, r, r, r), r.String(), string(j)} {
		if strings.Contains(s, code[:8]) || strings.Contains(strings.ToLower(s), strings.ToLower(code[:8])) {
			t.Fatalf("receipt leaked through formatting: %s", s)
		}
		if !strings.Contains(s, "[REDACTED]") {
			t.Fatalf("expected [REDACTED], got %s", s)
		}
	}
}

func FuzzParseReceipt(f *testing.F) {
	r, _ := NewReceipt()
	f.Add(r.Reveal())
	f.Add(strings.ToLower(r.Reveal()))
	f.Add("0000-0000-0000-0000-0000-0000")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReceipt(s)
		if err != nil {
			if !errors.Is(err, ErrReceiptTypo) && !errors.Is(err, errReceiptMalformed) {
				t.Fatalf("unexpected error %v", err)
			}
			if len(s) > 3 && strings.Contains(err.Error(), s) {
				t.Fatal("error echoes input")
			}
			return
		}
		again, err := ParseReceipt(r.Reveal())
		if err != nil || !again.Equal(r) {
			t.Fatal("parsed receipt does not round-trip")
		}
	})
}

// TestReceiptUnprintable shows a receipt prints under no verb, on a value
// as on a pointer, nested anywhere, even in an unexported field, where fmt
// prints without calling its methods.
func TestReceiptUnprintable(t *testing.T) {
	r, err := NewReceipt()
	if err != nil {
		t.Fatal(err)
	}
	code := strings.ReplaceAll(r.Reveal(), "-", "")
	testkit.Unprintable(t, r, [][]byte{[]byte(code)}, code, code[:10], r.Reveal()[:9])
}

// TestStoreUnprintable shows the store's lookup key prints under no verb.
func TestStoreUnprintable(t *testing.T) {
	s, err := OpenStore(filepath.Join(t.TempDir(), "h.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key := s.lookupKey.reveal()
	if len(key) != 32 {
		t.Fatal("no lookup key")
	}
	testkit.Unprintable(t, s, [][]byte{key})
	testkit.Unprintable(t, s.lookupKey, [][]byte{key})
}
