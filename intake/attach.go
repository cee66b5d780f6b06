package intake

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Attachment limits.
const (
	MaxAttachments    = 5
	MaxAttachmentSize = 10 << 20
)

var (
	// ErrAttachmentType means the file is not a kind we accept.
	ErrAttachmentType = errors.New("attachment type not accepted")
	// ErrAttachmentMismatch means the file's content is not what its declared
	// type or its name says it is.
	ErrAttachmentMismatch = errors.New("attachment content does not match its type")
	// ErrAttachmentDamaged means a JPEG or PNG could not be parsed.
	ErrAttachmentDamaged = errors.New("attachment image is damaged")
	// ErrAttachmentTooLarge means the file is over MaxAttachmentSize.
	ErrAttachmentTooLarge = errors.New("attachment too large")
)

// Accepted media types.
const (
	typeJPEG = "image/jpeg"
	typePNG  = "image/png"
	typePDF  = "application/pdf"
	typeText = "text/plain"
)

// maxNameStem caps the part of a file name before its extension, in bytes.
const maxNameStem = 80

// ReadAttachment reads one uploaded file into memory through a limit, so a
// part never spills to disk and never grows past MaxAttachmentSize.
func ReadAttachment(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxAttachmentSize+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read attachment: %w", err)
	}
	if len(data) > MaxAttachmentSize {
		return nil, ErrAttachmentTooLarge
	}
	return data, nil
}

// CleanAttachment checks an uploaded file and returns what may be sealed.
//
// name is the client-supplied file name and is never trusted: it is reduced
// to a safe base name ending in an extension that fits the content. declared
// is the part's Content-Type header; data is the whole file.
//
// JPEG and PNG images are rewritten without their metadata (EXIF with any
// GPS position, XMP, IPTC, comments, text chunks, thumbnails, trailing data)
// and cleaned is true. PDF and UTF-8 text are returned unchanged with cleaned
// false (clean is then data itself), so the team can be told they were not
// cleaned. No input makes it panic.
func CleanAttachment(name, declared string, data []byte) (clean []byte, safeName, mediaType string, cleaned bool, err error) {
	if len(data) > MaxAttachmentSize {
		return nil, "", "", false, ErrAttachmentTooLarge
	}
	sniffed := sniffType(data)
	stem, ext := splitName(sanitizeName(name))
	claimed, err := declaredType(declared)
	if err != nil {
		return nil, "", "", false, err
	}
	extType := extensionTypes[strings.ToLower(ext)]

	if sniffed == "" {
		// Content that claims to be an accepted type but is not is a
		// mismatch; anything else is simply a kind we do not take.
		if accepted(claimed) || accepted(extType) {
			return nil, "", "", false, ErrAttachmentMismatch
		}
		return nil, "", "", false, ErrAttachmentType
	}
	if claimed != "" && claimed != sniffed {
		return nil, "", "", false, ErrAttachmentMismatch
	}
	if extType != "" && extType != sniffed {
		return nil, "", "", false, ErrAttachmentMismatch
	}
	if extType == "" {
		// An unknown extension stays part of the name, and the canonical
		// one is added so the team's machine opens the file as what it is.
		if ext != "" {
			stem += "." + ext
		}
		ext = canonicalExt[sniffed]
	}
	ext = strings.ToLower(ext)

	switch sniffed {
	case typeJPEG:
		clean, err = cleanJPEG(data)
		cleaned = true
	case typePNG:
		clean, err = cleanPNG(data)
		cleaned = true
	case typeText:
		if !plainText(data) {
			err = ErrAttachmentType
		}
		clean = data
	case typePDF:
		clean = data
	}
	if err != nil {
		return nil, "", "", false, err
	}
	return clean, joinName(stem, ext), sniffed, cleaned, nil
}

func accepted(t string) bool {
	return t == typeJPEG || t == typePNG || t == typePDF || t == typeText
}

var (
	jpegMagic = []byte{0xFF, 0xD8, 0xFF}
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	pdfMagic  = []byte("%PDF-")
)

// sniffType names the accepted type the content really is, or "". Both
// net/http's sniffer and our own magic check must agree.
func sniffType(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	raw := http.DetectContentType(data)
	detected, _, _ := mime.ParseMediaType(raw)
	switch {
	case detected == typeJPEG && bytes.HasPrefix(data, jpegMagic):
		return typeJPEG
	case detected == typePNG && bytes.HasPrefix(data, pngMagic):
		return typePNG
	case detected == typePDF && bytes.HasPrefix(data, pdfMagic):
		return typePDF
	case raw == "text/plain; charset=utf-8":
		return typeText
	}
	return ""
}

// plainText reports whether the whole of data is UTF-8 text without control
// characters that could drive a terminal or hide content (the sniffer only
// looks at the first 512 bytes).
func plainText(data []byte) bool {
	for i := 0; i < len(data); {
		if c := data[i]; c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' || c == 0x7F {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 || r >= 0x80 && r <= 0x9F {
			return false
		}
		i += size
	}
	return true
}

// typeAliases maps what browsers send for the accepted types.
var typeAliases = map[string]string{
	"image/jpeg":        typeJPEG,
	"image/jpg":         typeJPEG,
	"image/pjpeg":       typeJPEG,
	"image/png":         typePNG,
	"image/x-png":       typePNG,
	"image/apng":        typePNG,
	"application/pdf":   typePDF,
	"application/x-pdf": typePDF,
	"text/plain":        typeText,
}

// declaredType normalises a part's Content-Type. Empty and
// application/octet-stream (what browsers send when they do not know) make
// no claim. A header that cannot be parsed cannot be checked, so it counts
// as a mismatch.
func declaredType(declared string) (string, error) {
	declared = strings.TrimSpace(declared)
	if declared == "" {
		return "", nil
	}
	mt, _, err := mime.ParseMediaType(declared)
	if err != nil {
		return "", ErrAttachmentMismatch
	}
	if mt == "application/octet-stream" {
		return "", nil
	}
	if t, ok := typeAliases[mt]; ok {
		return t, nil
	}
	return mt, nil
}

var canonicalExt = map[string]string{
	typeJPEG: "jpg",
	typePNG:  "png",
	typePDF:  "pdf",
	typeText: "txt",
}

// extensionTypes maps lowercase extensions to the type they claim. Accepted
// types list every spelling we keep; other common types are listed so that,
// say, a PNG named report.pdf or text named run.exe counts as a mismatch.
// Extensions not listed are kept as part of the name.
var extensionTypes = map[string]string{
	"jpg": typeJPEG, "jpeg": typeJPEG, "jpe": typeJPEG, "jfif": typeJPEG,
	"png": typePNG, "apng": typePNG,
	"pdf": typePDF,
	"txt": typeText, "text": typeText,

	"gif": "other", "webp": "other", "heic": "other", "heif": "other",
	"avif": "other", "bmp": "other", "tif": "other", "tiff": "other",
	"svg": "other", "svgz": "other", "ico": "other", "psd": "other",
	"raw": "other", "dng": "other", "cr2": "other", "nef": "other",
	"html": "other", "htm": "other", "xhtml": "other", "xml": "other",
	"js": "other", "mjs": "other", "css": "other", "json": "other",
	"csv": "other", "md": "other", "rtf": "other", "eml": "other",
	"doc": "other", "docx": "other", "docm": "other", "xls": "other",
	"xlsx": "other", "xlsm": "other", "ppt": "other", "pptx": "other",
	"odt": "other", "ods": "other", "odp": "other", "pages": "other",
	"zip": "other", "rar": "other", "7z": "other", "gz": "other",
	"tar": "other", "tgz": "other", "bz2": "other", "xz": "other",
	"exe": "other", "msi": "other", "dll": "other", "com": "other",
	"bat": "other", "cmd": "other", "scr": "other", "ps1": "other",
	"vbs": "other", "sh": "other", "py": "other", "jar": "other",
	"apk": "other", "app": "other", "dmg": "other", "iso": "other",
	"lnk": "other", "url": "other", "desktop": "other", "reg": "other",
	"mp3": "other", "m4a": "other", "wav": "other", "ogg": "other",
	"opus": "other", "aac": "other", "flac": "other", "mp4": "other",
	"m4v": "other", "mov": "other", "avi": "other", "mkv": "other",
	"webm": "other", "3gp": "other",
}

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

// cleanJPEG walks the JPEG marker segments and keeps only what decoding
// needs plus the JFIF header (without its thumbnail), the ICC colour profile
// and the Adobe colour-transform flag. EXIF (and with it GPS and embedded
// thumbnails), XMP, IPTC, comments, other APPn segments and anything after
// the end-of-image marker are dropped. The entropy-coded data is copied
// untouched, so the picture is not re-encoded.
func cleanJPEG(data []byte) ([]byte, error) {
	damaged := func(why string) ([]byte, error) {
		return nil, fmt.Errorf("%w: jpeg %s", ErrAttachmentDamaged, why)
	}
	if len(data) < 2 || data[0] != 0xFF || data[1] != 0xD8 {
		return damaged("missing start of image")
	}
	out := make([]byte, 0, len(data))
	out = append(out, 0xFF, 0xD8)
	p := 2
	sawFrame, sawScan := false, false
	for {
		if p >= len(data) || data[p] != 0xFF {
			return damaged("bad marker")
		}
		// Any number of 0xFF fill bytes may precede a marker.
		for p < len(data) && data[p] == 0xFF {
			p++
		}
		if p >= len(data) {
			return damaged("truncated")
		}
		m := data[p]
		p++
		switch {
		case m == 0xD9: // end of image; whatever follows is dropped
			if !sawScan {
				return damaged("no image data")
			}
			return append(out, 0xFF, 0xD9), nil
		case m == 0x01 || m >= 0xD0 && m <= 0xD7: // standalone markers
			out = append(out, 0xFF, m)
			continue
		case m == 0x00 || m == 0xD8:
			return damaged("bad marker")
		}

		if len(data)-p < 2 {
			return damaged("truncated")
		}
		n := int(binary.BigEndian.Uint16(data[p:]))
		if n < 2 || len(data)-p < n {
			return damaged("bad segment length")
		}
		seg := data[p : p+n] // length bytes and payload
		payload := seg[2:]
		p += n

		switch {
		case m == 0xE0:
			// Keep JFIF, but with no thumbnail: a thumbnail can show
			// what was cropped out of the picture.
			if n >= 16 && bytes.HasPrefix(payload, []byte("JFIF\x00")) {
				out = append(out, 0xFF, 0xE0, 0x00, 0x10)
				out = append(out, payload[:12]...)
				out = append(out, 0x00, 0x00)
			}
		case m == 0xE2 && bytes.HasPrefix(payload, []byte("ICC_PROFILE\x00")),
			m == 0xEE && bytes.HasPrefix(payload, []byte("Adobe")):
			out = append(out, 0xFF, m)
			out = append(out, seg...)
		case m >= 0xE0 && m <= 0xEF, m == 0xFE, m >= 0xF0 && m <= 0xFD:
			// Metadata, comments and reserved extensions: dropped.
		case m == 0xDA:
			if !sawFrame {
				return damaged("scan before frame header")
			}
			sawScan = true
			out = append(out, 0xFF, m)
			out = append(out, seg...)
			// Entropy-coded data runs to the next 0xFF that is neither
			// a stuffed zero nor a restart marker.
			start := p
			for {
				if p+1 >= len(data) {
					return damaged("truncated image data")
				}
				if data[p] == 0xFF {
					next := data[p+1]
					if next != 0x00 && !(next >= 0xD0 && next <= 0xD7) {
						break
					}
					p++
				}
				p++
			}
			out = append(out, data[start:p]...)
		default:
			// Frame headers, Huffman and quantisation tables, restart
			// interval and the other markers decoding needs.
			if m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC {
				sawFrame = true
			}
			out = append(out, 0xFF, m)
			out = append(out, seg...)
		}
	}
}

// pngKeep lists the chunks a cleaned PNG keeps. Every other ancillary chunk
// (text, EXIF, time, and private or unknown ones) is dropped.
var pngKeep = map[string]bool{
	"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true,
	"tRNS": true, "gAMA": true, "cHRM": true, "sRGB": true,
	"iCCP": true, "sBIT": true, "pHYs": true, "bKGD": true,
}

// cleanPNG walks the PNG chunks, checks their structure and CRCs, and
// copies only the chunks in pngKeep. Anything after IEND is dropped. An
// unknown critical chunk cannot be dropped safely, so it is damage.
func cleanPNG(data []byte) ([]byte, error) {
	damaged := func(why string) ([]byte, error) {
		return nil, fmt.Errorf("%w: png %s", ErrAttachmentDamaged, why)
	}
	if !bytes.HasPrefix(data, pngMagic) {
		return damaged("missing signature")
	}
	out := make([]byte, 0, len(data))
	out = append(out, pngMagic...)
	p := len(pngMagic)
	first, sawPLTE, sawIDAT, idatDone := true, false, false, false
	for {
		if len(data)-p < 12 {
			return damaged("truncated")
		}
		n := binary.BigEndian.Uint32(data[p:])
		if n > 1<<31-1 || uint64(len(data)-p-12) < uint64(n) {
			return damaged("bad chunk length")
		}
		end := p + 12 + int(n)
		chunk := data[p:end]
		typ := chunk[4:8]
		body := chunk[8 : 8+n]
		for _, c := range typ {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return damaged("bad chunk type")
			}
		}
		if crc32.ChecksumIEEE(chunk[4:8+n]) != binary.BigEndian.Uint32(chunk[8+n:]) {
			return damaged("bad chunk checksum")
		}
		p = end
		name := string(typ)
		critical := typ[0]&0x20 == 0

		if first != (name == "IHDR") {
			return damaged("bad header chunk")
		}
		first = false
		if sawIDAT && name != "IDAT" {
			idatDone = true
		}
		switch name {
		case "IHDR":
			if !validIHDR(body) {
				return damaged("bad header")
			}
		case "PLTE":
			if sawPLTE || sawIDAT || n == 0 || n%3 != 0 || n > 256*3 {
				return damaged("bad palette")
			}
			sawPLTE = true
		case "IDAT":
			if idatDone {
				return damaged("split image data")
			}
			sawIDAT = true
		case "IEND":
			if !sawIDAT || n != 0 {
				return damaged("bad end chunk")
			}
			return append(out, chunk...), nil
		default:
			if critical {
				return damaged("unknown critical chunk")
			}
		}
		if pngKeep[name] {
			out = append(out, chunk...)
		}
	}
}

// validIHDR checks the header fields against the PNG specification.
func validIHDR(b []byte) bool {
	if len(b) != 13 {
		return false
	}
	w, h := binary.BigEndian.Uint32(b[0:]), binary.BigEndian.Uint32(b[4:])
	if w == 0 || h == 0 || w > 1<<31-1 || h > 1<<31-1 {
		return false
	}
	depth, color := b[8], b[9]
	var ok bool
	switch color {
	case 0:
		ok = depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16
	case 3:
		ok = depth == 1 || depth == 2 || depth == 4 || depth == 8
	case 2, 4, 6:
		ok = depth == 8 || depth == 16
	}
	return ok && b[10] == 0 && b[11] == 0 && b[12] <= 1
}
