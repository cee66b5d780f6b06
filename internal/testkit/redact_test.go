package testkit

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps failures instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

const leakySecret = "hunter2-correct-horse"

// formatsOnly redacts every fmt verb but its String method tells.
type formatsOnly struct{ p *string }

func (formatsOnly) Format(f fmt.State, _ rune) { f.Write([]byte("[REDACTED]")) }
func (v formatsOnly) String() string           { return *v.p }
func (formatsOnly) MarshalText() ([]byte, error) {
	return []byte("[REDACTED]"), nil
}

// redacted says nothing on any path.
type redacted struct{ p *string }

func (redacted) Format(f fmt.State, _ rune)   { f.Write([]byte("[REDACTED]")) }
func (redacted) String() string               { return "[REDACTED]" }
func (redacted) GoString() string             { return "[REDACTED]" }
func (redacted) MarshalText() ([]byte, error) { return []byte("[REDACTED]"), nil }

// Unprintable catches a secret that only a direct String call shows, as
// zerolog's Stringer would log it, and passes one that shows nowhere.
func TestUnprintableCallsMethods(t *testing.T) {
	s := leakySecret
	r := &recorder{TB: t}
	Unprintable[formatsOnly](r, formatsOnly{&s}, nil, leakySecret)
	found := strings.Join(r.errors, "\n")
	for _, how := range []string{"String()", "zerolog's Stringer"} {
		if !strings.Contains(found, how) {
			t.Errorf("a secret shown by %s went unnoticed:\n%s", how, found)
		}
	}
	r = &recorder{TB: t}
	Unprintable[redacted](r, redacted{&s}, nil, leakySecret)
	if len(r.errors) > 0 {
		t.Errorf("a redacted value failed:\n%s", strings.Join(r.errors, "\n"))
	}
}
