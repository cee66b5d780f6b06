package testkit

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// Verbs are the fmt verbs Unprintable tries, with and without flags.
var Verbs = []string{
	"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "% x", "%#x", "%d", "%o", "%O",
	"%b", "%c", "%U", "%e", "%f", "%g", "%t", "%p", "%T", "%10.3v", "%-8s", "%+q",
}

// Unprintable fails t if any of secretTexts, or any common encoding of
// secretBytes (raw, hex, base64, or the element lists fmt prints for a
// byte slice under each verb), shows in what fmt or encoding/json make of
// v: under every verb in Verbs, on the value and on a pointer to it, and
// nested in exported and unexported struct fields, interfaces, slices,
// arrays and maps. fmt cannot call a method of an unexported field, so a
// secret type must keep its bytes where fmt does not follow: behind a
// pointer, which a nested value prints as its address.
func Unprintable[T any](t testing.TB, v T, secretBytes [][]byte, secretTexts ...string) {
	t.Helper()
	type exported struct{ X T }
	type unexported struct{ x T }
	type deep struct{ x struct{ y []T } }
	type iface struct{ x any }
	type mapped struct{ x map[string]T }
	type pointed struct{ x *T }
	type array struct{ x [1]T }
	p := &v
	values := map[string]any{
		"value":                       v,
		"pointer":                     p,
		"exported field":              exported{v},
		"pointer to exported field":   &exported{v},
		"unexported field":            unexported{v},
		"pointer to unexported field": &unexported{v},
		"deeply nested":               deep{x: struct{ y []T }{y: []T{v}}},
		"interface field":             iface{v},
		"interface field of pointer":  iface{p},
		"map field":                   mapped{map[string]T{"k": v}},
		"pointer field":               pointed{p},
		"array field":                 array{[1]T{v}},
		"slice":                       []T{v},
		"slice of pointers":           []*T{p},
		"map":                         map[string]T{"k": v},
		"any slice":                   []any{v, p},
	}
	needles := secretNeedles(secretBytes, secretTexts)
	failed := 0
	fail := func(format string, args ...any) {
		if failed++; failed <= 10 {
			t.Errorf(format, args...)
		}
	}
	for what, x := range values {
		for _, verb := range Verbs {
			out := fmt.Sprintf(verb, x)
			if n := findNeedle(out, needles[verb], needles[""]); n != "" {
				fail("%s printed with %s shows a secret (%q): %s", what, verb, n, out)
			}
		}
		for how, out := range asText(x) {
			if n := findNeedle(out, needles["%v"], needles[""]); n != "" {
				fail("%s through %s shows a secret (%q): %s", what, how, n, out)
			}
		}
		j, err := json.Marshal(x)
		if err != nil {
			continue // unencodable (a map of a func, say): nothing printed
		}
		if n := findNeedle(string(j), needles["%v"], needles[""]); n != "" {
			fail("%s encoded as JSON shows a secret (%q): %s", what, n, j)
		}
	}
}

// asText returns what x becomes on the ways to text that do not go
// through fmt's verbs: its own String, GoString and MarshalText methods,
// called directly as fmt.Stringer and the like (zerolog's Stringer does),
// and the logs zerolog and log/slog write of it.
func asText(x any) map[string]string {
	out := map[string]string{}
	if s, ok := x.(fmt.Stringer); ok {
		out["String()"] = s.String()
		var b bytes.Buffer
		zl := zerolog.New(&b)
		zl.Info().Stringer("v", s).Msg("")
		out["zerolog's Stringer"] = b.String()
	}
	if s, ok := x.(fmt.GoStringer); ok {
		out["GoString()"] = s.GoString()
	}
	if m, ok := x.(encoding.TextMarshaler); ok {
		if b, err := m.MarshalText(); err == nil {
			out["MarshalText()"] = string(b)
		}
	}
	var z, st, sj bytes.Buffer
	zl := zerolog.New(&z)
	zl.Info().Interface("v", x).Msg("")
	out["zerolog's Interface"] = z.String()
	slog.New(slog.NewTextHandler(&st, nil)).Info("", "v", x)
	out["slog's text handler"] = st.String()
	slog.New(slog.NewJSONHandler(&sj, nil)).Info("", "v", x)
	out["slog's JSON handler"] = sj.String()
	return out
}

// secretNeedles returns, for each verb, the strings that would show some of
// secretBytes in fmt's output under that verb; key "" holds what any output
// must never contain.
func secretNeedles(secretBytes [][]byte, texts []string) map[string][]string {
	out := map[string][]string{}
	for _, s := range texts {
		if s != "" {
			out[""] = append(out[""], s)
		}
	}
	for _, b := range secretBytes {
		if len(b) < 6 {
			panic("testkit.Unprintable: a secret shorter than 6 bytes cannot be told from chance")
		}
		pre := b[:min(len(b), 8)]
		out[""] = append(out[""], string(pre), hex.EncodeToString(pre), strings.ToUpper(hex.EncodeToString(pre)),
			base64.StdEncoding.EncodeToString(b)[:8], base64.RawURLEncoding.EncodeToString(b)[:8])
		for _, verb := range Verbs {
			if verb == "%p" || verb == "%T" {
				continue // an address or a type name: no bytes to look for
			}
			// What fmt makes of the first bytes under this verb, less its
			// brackets and its last element, which the bytes after it may
			// print differently.
			inner := fmt.Sprintf(verb, pre)
			if i := strings.IndexAny(inner, "[{\""); i >= 0 {
				inner = inner[i+1:]
			}
			inner = strings.TrimRight(inner, "]}\"")
			if i := strings.LastIndexAny(inner, " ,\\"); i > len(inner)/2 {
				inner = inner[:i]
			} else if len(inner) > 8 {
				inner = inner[:len(inner)-4]
			}
			if len(inner) >= 8 {
				out[verb] = append(out[verb], inner)
			}
		}
	}
	return out
}

func findNeedle(out string, lists ...[]string) string {
	lower := strings.ToLower(out)
	for _, l := range lists {
		for _, n := range l {
			if strings.Contains(out, n) || strings.Contains(lower, strings.ToLower(n)) {
				return n
			}
		}
	}
	return ""
}
