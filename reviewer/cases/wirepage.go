package cases

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/hearken-project/hearken/vault"
)

// decode decodes an items page. encoding/json reads a page three times
// over (once to check it, once to find each value's end, once to decode
// it), and a page is megabytes of base64; a page as the server writes it
// is read here once, by a direct path. That path takes only a strict subset
// of JSON: the page's and items' own names, each at most once and spelled
// as sent; strings without escapes; plain integers; true and false. On
// anything else (escapes, null, other names, bad base64, invalid UTF-8, a
// syntax error) it gives up, and the page is decoded by encoding/json from
// the start, so both accept the same pages and decode them alike (a test
// and a fuzz test check).
func (p *itemsPage) decode(data []byte) error {
	if fast, ok := scanItemsPage(data); ok {
		*p = fast
		return nil
	}
	*p = itemsPage{}
	return json.Unmarshal(data, p)
}

// pageScanner reads a page by the direct path; each method says false
// when the input leaves the subset it takes.
type pageScanner struct {
	data []byte
	i    int
}

func scanItemsPage(data []byte) (itemsPage, bool) {
	s := &pageScanner{data: data}
	var p itemsPage
	var seen [4]bool
	ok := s.object(func(name []byte) bool {
		switch string(name) {
		case "items":
			return once(&seen[0]) && s.items(&p.Items)
		case "more":
			return once(&seen[1]) && s.bool(&p.More)
		case "next":
			return once(&seen[2]) && s.label(&p.Next)
		case "undeliverable":
			return once(&seen[3]) && s.int(&p.Undeliverable)
		}
		return false
	})
	s.space()
	return p, ok && s.i == len(s.data)
}

// once says whether a name is met for the first time: encoding/json merges
// a repeated name into what came before, which this path does not copy.
func once(seen *bool) bool {
	if *seen {
		return false
	}
	*seen = true
	return true
}

func (s *pageScanner) items(out *[]wireItem) bool {
	if !s.punct('[') {
		return false
	}
	items := []wireItem{}
	if s.punct(']') {
		*out = items
		return true
	}
	for {
		var it wireItem
		var seen [6]bool
		ok := s.object(func(name []byte) bool {
			switch string(name) {
			case "id":
				return once(&seen[0]) && s.label(&it.ID)
			case "thread":
				return once(&seen[1]) && s.label(&it.Thread)
			case "route":
				return once(&seen[2]) && s.label(&it.Route)
			case "kind":
				var k string
				ok := once(&seen[3]) && s.label(&k)
				it.Kind = vault.Kind(k)
				return ok
			case "day":
				return once(&seen[4]) && s.label(&it.Day)
			case "sealed":
				return once(&seen[5]) && s.base64(&it.Sealed)
			}
			return false
		})
		if !ok {
			return false
		}
		items = append(items, it)
		if s.punct(']') {
			*out = items
			return true
		}
		if !s.punct(',') {
			return false
		}
	}
}

// object reads {"name": value, ...}, calling member to read each value.
func (s *pageScanner) object(member func(name []byte) bool) bool {
	if !s.punct('{') {
		return false
	}
	if s.punct('}') {
		return true
	}
	for {
		name, ok := s.str()
		if !ok || !s.punct(':') || !member(name) {
			return false
		}
		if s.punct('}') {
			return true
		}
		if !s.punct(',') {
			return false
		}
	}
}

func (s *pageScanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// punct reads c after any white space.
func (s *pageScanner) punct(c byte) bool {
	s.space()
	if s.i < len(s.data) && s.data[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string without escapes and returns what is between its
// quotes, unchecked.
func (s *pageScanner) str() ([]byte, bool) {
	if !s.punct('"') {
		return nil, false
	}
	n := bytes.IndexByte(s.data[s.i:], '"')
	if n < 0 {
		return nil, false
	}
	v := s.data[s.i : s.i+n]
	if bytes.IndexByte(v, '\\') >= 0 {
		return nil, false
	}
	s.i += n + 1
	return v, true
}

// label reads a short string: valid UTF-8 without control characters.
func (s *pageScanner) label(out *string) bool {
	v, ok := s.str()
	if !ok || !utf8.Valid(v) {
		return false
	}
	for _, c := range v {
		if c < 0x20 {
			return false
		}
	}
	*out = string(v)
	return true
}

// base64 reads a string of standard base64. The decoder skips \r and \n,
// which a JSON string cannot hold unescaped: the length check refuses them
// (each one skipped would leave the output shorter), and the decoder
// refuses every other byte outside the alphabet.
func (s *pageScanner) base64(out *base64JSON) bool {
	v, ok := s.str()
	if !ok || len(v)%4 != 0 {
		return false
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(v)))
	n, err := base64.StdEncoding.Decode(b, v)
	pad := len(v) - len(bytes.TrimRight(v, "="))
	if err != nil || pad > 2 || n != len(v)/4*3-pad {
		return false
	}
	*out = b[:n]
	return true
}

func (s *pageScanner) bool(out *bool) bool {
	s.space()
	switch {
	case bytes.HasPrefix(s.data[s.i:], []byte("true")):
		*out = true
		s.i += 4
	case bytes.HasPrefix(s.data[s.i:], []byte("false")):
		*out = false
		s.i += 5
	default:
		return false
	}
	return s.delimited()
}

// int reads -?(0|[1-9][0-9]*), at most nine digits.
func (s *pageScanner) int(out *int) bool {
	s.space()
	start := s.i
	if s.i < len(s.data) && s.data[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.data) && s.data[s.i] >= '0' && s.data[s.i] <= '9' {
		s.i++
	}
	nd := s.i - digits
	if nd == 0 || nd > 9 || (nd > 1 && s.data[digits] == '0') || !s.delimited() {
		return false
	}
	v, err := strconv.Atoi(string(s.data[start:s.i]))
	*out = v
	return err == nil
}

// delimited says a literal ends here: what follows is not part of it.
func (s *pageScanner) delimited() bool {
	if s.i == len(s.data) {
		return true
	}
	switch s.data[s.i] {
	case ' ', '\t', '\n', '\r', ',', '}', ']':
		return true
	}
	return false
}
