package attach

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"
)

// MaxSize is the largest file accepted, in bytes.
const MaxSize = 10 << 20

var (
	// ErrType means the file is not a kind that is accepted.
	ErrType = errors.New("attachment type not accepted")
	// ErrMismatch means the file's content is not what its declared type
	// or its name says it is.
	ErrMismatch = errors.New("attachment content does not match its type")
	// ErrDamaged means a JPEG or PNG could not be parsed.
	ErrDamaged = errors.New("attachment image is damaged")
	// ErrTooLarge means the file is over MaxSize.
	ErrTooLarge = errors.New("attachment too large")
)

// File is an accepted attachment, ready to be sealed.
type File struct {
	// Name is a safe base name ending in the extension of Type.
	Name string
	// Type is the media type the content was checked as.
	Type string
	// Data is what may be sealed: the cleaned image, or the PDF or text
	// exactly as sent.
	Data []byte
	// Cleaned is true when metadata was removed (JPEG and PNG) and false
	// when the file is kept as sent (PDF and text), so the team can be
	// told.
	Cleaned bool
}

// Read reads one uploaded file into memory through a limit, so it never
// spills to disk and never grows past MaxSize.
func Read(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read attachment: %w", err)
	}
	if len(data) > MaxSize {
		return nil, ErrTooLarge
	}
	return data, nil
}

// Clean checks an uploaded file and returns what may be sealed.
//
// name is the client-supplied file name and declared the part's
// Content-Type header; neither is trusted. data is the whole file; it is
// not modified, and File.Data shares it when nothing is removed. The error
// is one of ErrType, ErrMismatch, ErrDamaged and ErrTooLarge, possibly
// wrapped. No input makes it panic.
func Clean(name, declared string, data []byte) (*File, error) {
	if len(data) > MaxSize {
		return nil, ErrTooLarge
	}
	sniffed := sniffType(data)
	stem, ext := splitName(sanitizeName(name))
	claimed, err := declaredType(declared)
	if err != nil {
		return nil, err
	}
	extType := extensionTypes[strings.ToLower(ext)]

	if sniffed == "" {
		// Content that claims to be an accepted type but is not is a
		// mismatch; anything else is simply a kind we do not take.
		if accepted(claimed) || accepted(extType) {
			return nil, ErrMismatch
		}
		return nil, ErrType
	}
	if claimed != "" && claimed != sniffed {
		return nil, ErrMismatch
	}
	if extType != "" && extType != sniffed {
		return nil, ErrMismatch
	}
	if extType == "" {
		// An unknown extension stays part of the name, and the canonical
		// one is added so the team's machine opens the file as what it is.
		if ext != "" {
			stem += "." + ext
		}
		ext = Extension(sniffed)[1:]
	}

	f := &File{Type: sniffed, Data: data, Name: joinName(stem, strings.ToLower(ext))}
	switch sniffed {
	case typeJPEG:
		f.Data, err = cleanJPEG(data)
		f.Cleaned = true
	case typePNG:
		f.Data, err = cleanPNG(data)
		f.Cleaned = true
	case typeText:
		if !plainText(data) {
			err = ErrType
		}
	}
	if err != nil {
		return nil, err
	}
	return f, nil
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
		return "", ErrMismatch
	}
	if mt == "application/octet-stream" {
		return "", nil
	}
	if t, ok := typeAliases[mt]; ok {
		return t, nil
	}
	return mt, nil
}
