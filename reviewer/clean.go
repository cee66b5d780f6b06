package reviewer

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/hearken-project/hearken/reviewer/cases"
)

// Everything reviewer prints that did not come from its own source text
// (reports, names, routes, field names, types, the server's words) goes
// through clean, or through escapeJSON for --json, so no one can drive the
// member's terminal with escape sequences or reorder what it shows with
// bidi controls. Both follow the one rule, cases.UnsafeRune.

// placeholder stands in for a character that is not shown.
const placeholder = '\uFFFD'

// clean returns s for one line of a terminal: tabs and line breaks become
// spaces; every other character cases.UnsafeRune names becomes a visible
// placeholder. Invalid UTF-8 becomes the placeholder too.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if cases.UnsafeRune(r) || r == unicode.ReplacementChar {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case cases.UnsafeRune(r):
			return placeholder
		}
		return r
	}, s)
}

// escapeJSON writes every character of JSON text that cases.UnsafeRune
// names as a \u escape, so a script still reads exactly what was sent while
// a terminal shown the JSON sees nothing it would act on. encoding/json
// already escapes C0 controls, U+2028, U+2029 and invalid UTF-8; this adds
// DEL, C1 controls and format characters. Characters below U+0020 in its
// output are the indentation's line breaks, and the rest of JSON's
// structure is ASCII, so every character escaped here is inside a string,
// where the escape means the same character.
func escapeJSON(data []byte) []byte {
	i := 0
	for i < len(data) && data[i] < 0x7f {
		i++
	}
	if i == len(data) {
		return data
	}
	out := make([]byte, 0, len(data)+64)
	out = append(out, data[:i]...)
	for i < len(data) {
		r, size := utf8.DecodeRune(data[i:])
		if r < 0x20 || !cases.UnsafeRune(r) {
			out = append(out, data[i:i+size]...)
			i += size
			continue
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != unicode.ReplacementChar {
			out = appendEscape(appendEscape(out, r1), r2)
		} else {
			out = appendEscape(out, r)
		}
		i += size
	}
	return out
}

func appendEscape(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}
