package reviewer

import (
	"strings"
	"unicode"
)

// Everything reviewer prints to a terminal that did not come from its own
// source text (reports, names, routes, field names, types, the server's
// words) goes through clean, so no one can drive the member's terminal with
// escape sequences or reorder what it shows with bidi controls.

// placeholder stands in for a character that is not shown.
const placeholder = '\uFFFD'

// clean returns s for one line of a terminal: tabs and line breaks become
// spaces; other control characters (C0, DEL, C1), Unicode format characters
// (bidi overrides and isolates, zero-width characters) and line or
// paragraph separators become a visible placeholder. Invalid UTF-8 becomes
// the placeholder too.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if unsafeRune(r) || r == '\t' || r == '\n' || r == '\r' || r == unicode.ReplacementChar {
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
		case unsafeRune(r):
			return placeholder
		}
		return r
	}, s)
}

func unsafeRune(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) ||
		unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r)
}
