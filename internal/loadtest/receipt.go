package loadtest

import (
	"bytes"
	"strings"
)

// receiptMarker is how the receipt page marks the code, per the public-site
// contract.
var receiptMarker = []byte(`id="receipt"`)

// minReceiptSymbols is 100 bits in base32 symbols.
const minReceiptSymbols = 20

// FindReceipt returns the code inside the element marked id="receipt", or
// false if there is none or it does not look like a receipt. It scans bytes
// rather than parsing the page because it runs once per submission on the
// same cores as the server under test.
func FindReceipt(body []byte) (string, bool) {
	i := bytes.Index(body, receiptMarker)
	if i < 0 {
		return "", false
	}
	rest := body[i+len(receiptMarker):]
	j := bytes.IndexByte(rest, '>')
	if j < 0 {
		return "", false
	}
	rest = rest[j+1:]
	if len(rest) > 512 {
		rest = rest[:512]
	}
	// Collect the element's text up to its end tag, skipping tags nested in
	// it (the site allows a line break after each hyphen with <wbr>).
	var text []byte
	inTag := false
	for i, c := range rest {
		switch {
		case c == '<':
			if i+1 < len(rest) && rest[i+1] == '/' {
				if len(bytes.TrimSpace(text)) == 0 {
					return "", false
				}
				return checkReceipt(string(text))
			}
			inTag = true
		case c == '>':
			inTag = false
		case !inTag:
			text = append(text, c)
		}
	}
	return "", false
}

// checkReceipt accepts Crockford base32 symbols (check symbols included) in
// groups separated by hyphens or spaces, with enough symbols for 100 bits.
func checkReceipt(s string) (string, bool) {
	s = strings.TrimSpace(s)
	n := 0
	for _, c := range strings.ToUpper(s) {
		switch {
		case c == '-' || c == ' ':
		case c >= '0' && c <= '9':
			n++
		case c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O':
			n++ // U only appears as a check symbol, so it is allowed
		case c == '*' || c == '~' || c == '$' || c == '=':
			n++
		default:
			return "", false
		}
	}
	if n < minReceiptSymbols {
		return "", false
	}
	return s, true
}

// threadMarker is what only a thread's page has, per the public-site
// contract: the form to add a message (field "message"). The check form,
// and its "we could not find that code" answer, ask for a receipt only.
var threadMarker = []byte(`name="message"`)

// ShowsThread reports whether a check's answer is a thread's page, not the
// check form again with "not found" (both are 200).
func ShowsThread(body []byte) bool { return bytes.Contains(body, threadMarker) }
