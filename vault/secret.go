package vault

import "fmt"

// secret holds secret bytes where fmt cannot reach them. fmt prints a
// value nested in an unexported field by reflection, without calling its
// methods, so a secret kept in a plain field of a type would print
// whenever a value of that type sat inside another struct. A pointer
// nested anywhere prints as its address, never what it points to; and
// printed on its own, a secret's methods say "[REDACTED]".
// TestMemberUnprintable and TestReceiptUnprintable try every verb.
type secret struct{ p *[]byte }

func newSecret(b []byte) secret { return secret{&b} }

// reveal returns the bytes (nil for the zero secret). Callers must not
// change them.
func (s secret) reveal() []byte {
	if s.p == nil {
		return nil
	}
	return *s.p
}

func (s secret) isZero() bool { return s.p == nil }

// String returns "[REDACTED]".
func (secret) String() string { return "[REDACTED]" }

// GoString returns "[REDACTED]", for %#v.
func (secret) GoString() string { return "[REDACTED]" }

// Format prints "[REDACTED]" for every verb.
func (secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[REDACTED]")) }

// MarshalText returns "[REDACTED]", so encoders such as JSON reveal nothing.
func (secret) MarshalText() ([]byte, error) { return []byte("[REDACTED]"), nil }
