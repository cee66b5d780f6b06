package onion

import (
	"bufio"
	"errors"
	"strings"
)

// Limits on what tor's control port may send us. Replies to the commands
// this package sends are a few hundred bytes; the limits only stop a
// confused or hostile listener from filling memory.
const (
	maxLine  = 16 << 10
	maxReply = 1 << 20
)

var errProtocol = errors.New("tor's control port sent a reply this program does not understand")

// reply is one control-port reply: every line shares one status code.
type reply struct {
	code  int
	lines []replyLine
}

// replyLine is one line's text after "NNN-", "NNN+" or "NNN "; data holds
// the dot-encoded block that follows a "+" line, decoded.
type replyLine struct {
	text string
	data string
}

// last is the text of the final line, which carries the status message.
func (r reply) last() string {
	if len(r.lines) == 0 {
		return ""
	}
	return r.lines[len(r.lines)-1].text
}

// event is the text of an asynchronous (6xx) reply, lines joined by "\n".
func (r reply) event() string {
	var b strings.Builder
	for i, l := range r.lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l.text)
		if l.data != "" {
			b.WriteByte('\n')
			b.WriteString(l.data)
		}
	}
	return b.String()
}

// readReply reads one whole reply (control-spec 2.3), through the limits.
func readReply(r *bufio.Reader) (reply, error) {
	var rep reply
	size := 0
	next := func() (string, error) {
		line, err := readLine(r)
		if size += len(line) + 2; err == nil && size > maxReply {
			err = errProtocol
		}
		return line, err
	}
	for {
		line, err := next()
		if err != nil {
			return reply{}, err
		}
		if len(line) < 4 || !isDigits(line[:3]) {
			return reply{}, errProtocol
		}
		code := int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
		if len(rep.lines) == 0 {
			rep.code = code
		} else if code != rep.code {
			return reply{}, errProtocol
		}
		l := replyLine{text: line[4:]}
		switch line[3] {
		case ' ':
			rep.lines = append(rep.lines, l)
			return rep, nil
		case '-':
		case '+':
			var data []string
			for {
				d, err := next()
				if err != nil {
					return reply{}, err
				}
				if d == "." {
					break
				}
				// Dot-stuffing: a data line starting with "." was sent as "..".
				data = append(data, strings.TrimPrefix(d, "."))
			}
			l.data = strings.Join(data, "\n")
		default:
			return reply{}, errProtocol
		}
		rep.lines = append(rep.lines, l)
	}
}

// readLine reads one CRLF- (or LF-) terminated line of at most maxLine bytes.
func readLine(r *bufio.Reader) (string, error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > maxLine {
			return "", errProtocol
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		s := strings.TrimSuffix(string(buf[:len(buf)-1]), "\r")
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
				return "", errProtocol
			}
		}
		return s, nil
	}
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseKV reads `KEY=VALUE KEY="quoted value" ...` as tor writes them in
// PROTOCOLINFO and AUTHCHALLENGE replies. Words without "=" are skipped.
func parseKV(s string) (map[string]string, error) {
	kv := map[string]string{}
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return kv, nil
		}
		eq := strings.IndexAny(s, "= ")
		if eq < 0 || s[eq] == ' ' {
			_, s, _ = strings.Cut(s, " ")
			continue
		}
		key := s[:eq]
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			var err error
			if val, s, err = unquote(s); err != nil {
				return nil, err
			}
		} else {
			val, s, _ = strings.Cut(s, " ")
		}
		kv[key] = val
	}
}

// unquote reads a control-spec QuotedString from the start of s and
// returns its value and what follows it.
func unquote(s string) (val, rest string, err error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			if i+1 >= len(s) {
				return "", "", errProtocol
			}
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '0', '1', '2', '3':
				if i+2 >= len(s) || s[i+1] < '0' || s[i+1] > '7' || s[i+2] < '0' || s[i+2] > '7' {
					return "", "", errProtocol
				}
				b.WriteByte((e-'0')<<6 | (s[i+1]-'0')<<3 | (s[i+2] - '0'))
				i += 2
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errProtocol
}
