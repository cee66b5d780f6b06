package attach

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNameStem caps the part of a file name before its extension, in bytes.
const maxNameStem = 80

// sanitizeName reduces a client-supplied name to a base name made only of
// letters, digits, marks and a few harmless punctuation characters. Path
// parts, control and formatting characters (such as right-to-left
// overrides, which can disguise an extension) are removed.
func sanitizeName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		case strings.ContainsRune("-_.()+,", r):
			b.WriteRune(r)
		case r == ' ' || unicode.Is(unicode.Zs, r):
			b.WriteByte(' ')
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			// Dropped: invisible, or able to reorder what is shown.
		default:
			b.WriteByte('_')
		}
	}
	return strings.Trim(b.String(), " .")
}

// splitName splits a sanitized name into a stem and an extension.
// Only a short run of ASCII letters and digits counts as an extension.
func splitName(name string) (stem, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || len(name)-i-1 > 8 || i == len(name)-1 {
		return name, ""
	}
	for _, c := range name[i+1:] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return name, ""
		}
	}
	return name[:i], name[i+1:]
}

// joinName caps the stem, keeps it from starting like a command-line option
// or being a name Windows reserves, and adds the extension. Applied to its
// own output it changes nothing.
func joinName(stem, ext string) string {
	stem = capStem(strings.TrimLeft(stem, " .-"))
	if stem == "" {
		stem = "attachment"
	}
	if windowsReserved(stem) {
		stem = capStem("_" + stem)
	}
	return stem + "." + ext
}

func capStem(stem string) string {
	if len(stem) > maxNameStem {
		cut := maxNameStem
		for cut > 0 && !utf8.RuneStart(stem[cut]) {
			cut--
		}
		stem = stem[:cut]
	}
	return strings.TrimRight(stem, " .")
}

func windowsReserved(stem string) bool {
	base, _, _ := strings.Cut(strings.ToUpper(stem), ".")
	base = strings.TrimRight(base, " ")
	switch base {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	if len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		return base[3] >= '0' && base[3] <= '9'
	}
	return false
}
