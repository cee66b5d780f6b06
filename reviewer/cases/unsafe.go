package cases

import "unicode"

// UnsafeRune reports whether r is a character that must never be shown
// raw: control characters (C0, DEL, C1, such as U+009B, a terminal's
// control sequence introducer), Unicode format characters (bidi overrides
// and isolates, zero-width characters, the soft hyphen, tags) and line or
// paragraph separators. Each can drive a terminal, reorder what it shows or
// hide text. It is the one rule for the team's side: a name (an assignee)
// may not hold such a character, and the command line prints each as a
// placeholder in text and as an escape in JSON.
func UnsafeRune(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) ||
		unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r)
}
