package vault

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
)

// A receipt is 23 random Crockford base32 symbols (115 bits) and one check
// symbol, shown in six groups of four: XXXX-XXXX-XXXX-XXXX-XXXX-XXXC.
const (
	receiptData    = 23
	receiptSymbols = receiptData + 1
	crockford      = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

var (
	// ErrReceiptTypo means the code has the right shape but its check symbol
	// does not match: almost certainly a mistyped symbol.
	ErrReceiptTypo = errors.New("this code has a typo")
	// errReceiptMalformed means the text is not shaped like a receipt at all.
	errReceiptMalformed = errors.New("this is not a receipt code")
)

// Receipt is a reporter's bearer credential for one thread. It is never
// stored or logged: it prints as [REDACTED], and only Reveal gives its text,
// for the one page that shows it to the reporter.
//
// The symbols sit behind a pointer (secret), so that a Receipt nested in
// another value, even in an unexported field where fmt calls none of its
// methods, prints as an address and never as the code.
type Receipt struct {
	code secret // the canonical upper-case symbols; zero if unset
}

// NewReceipt returns a fresh random receipt.
func NewReceipt() (Receipt, error) {
	var raw [receiptData]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Receipt{}, fmt.Errorf("failed to read randomness: %w", err)
	}
	code := make([]byte, receiptSymbols)
	var vals [receiptData]byte
	for i, b := range raw {
		vals[i] = b & 31 // 256 is a multiple of 32, so each symbol is uniform
		code[i] = crockford[vals[i]]
	}
	code[receiptData] = crockford[checkSymbol(vals[:])]
	return Receipt{newSecret(code)}, nil
}

// ParseReceipt reads a receipt as a person might type it: any case, with or
// without spaces and hyphens, with I or L for 1 and O for 0. Errors never
// echo the input.
func ParseReceipt(s string) (Receipt, error) {
	if len(s) > 200 {
		return Receipt{}, errReceiptMalformed
	}
	code := make([]byte, receiptSymbols)
	var vals [receiptSymbols]byte
	n := 0
	for _, c := range s {
		switch c {
		case ' ', '-', '\t', '\n', '\r', '\u00a0', '\u2010', '\u2011', '\u2013':
			continue
		}
		v := symbolValue(c)
		if v < 0 || n == receiptSymbols {
			return Receipt{}, errReceiptMalformed
		}
		vals[n] = byte(v)
		code[n] = crockford[v]
		n++
	}
	if n != receiptSymbols {
		return Receipt{}, errReceiptMalformed
	}
	if checkSymbol(vals[:receiptData]) != vals[receiptData] {
		return Receipt{}, ErrReceiptTypo
	}
	return Receipt{newSecret(code)}, nil
}

func symbolValue(c rune) int {
	switch {
	case c >= 'a' && c <= 'z':
		c -= 'a' - 'A'
	}
	switch c {
	case 'I', 'L':
		c = '1'
	case 'O':
		c = '0'
	}
	if c > 127 {
		return -1
	}
	return strings.IndexByte(crockford, byte(c))
}

// checkSymbol is a weighted sum over GF(32), the weights being successive
// powers of a generator. Every weight is non-zero and distinct, so any single
// wrong symbol and any swap of two neighbouring different symbols changes it.
func checkSymbol(vals []byte) byte {
	var sum, w byte = 0, 1
	for _, v := range vals {
		w = gf32Mul(w, 2)
		sum ^= gf32Mul(v, w)
	}
	return sum
}

// gf32Mul multiplies in GF(2^5) modulo the primitive polynomial x^5+x^2+1.
func gf32Mul(a, b byte) byte {
	var p byte
	for i := 0; i < 5; i++ {
		if b&1 != 0 {
			p ^= a
		}
		b >>= 1
		a <<= 1
		if a&0x20 != 0 {
			a ^= 0x25
		}
	}
	return p & 31
}

// isZero reports whether r was never set.
func (r Receipt) isZero() bool { return r.code.isZero() }

// Reveal returns the receipt grouped for display. Call it only to show the
// code to its reporter.
func (r Receipt) Reveal() string {
	if r.isZero() {
		return ""
	}
	var b strings.Builder
	for i, c := range r.code.reveal() {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// canonical is the form that keys the lookup HMAC and the reply key.
func (r Receipt) canonical() []byte { return r.code.reveal() }

// Equal compares two receipts in constant time.
func (r Receipt) Equal(o Receipt) bool {
	return !r.isZero() && subtle.ConstantTimeCompare(r.code.reveal(), o.code.reveal()) == 1
}

// String returns "[REDACTED]", so a receipt that slips into a log says nothing.
func (r Receipt) String() string { return "[REDACTED]" }

// GoString returns "[REDACTED]", for %#v.
func (r Receipt) GoString() string { return "[REDACTED]" }

// Format prints "[REDACTED]" for every verb, so %x or %d reveal nothing either.
func (r Receipt) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[REDACTED]")) }

// MarshalText returns "[REDACTED]", so encoders such as JSON reveal nothing.
func (r Receipt) MarshalText() ([]byte, error) { return []byte("[REDACTED]"), nil }
