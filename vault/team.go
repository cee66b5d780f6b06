package vault

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"filippo.io/age"

	"github.com/hearken-project/hearken/internal/onion"
)

const (
	signingKeyPrefix = "ed25519:"
	// onionKeyPrefix starts an onion client-auth key, exactly as tor writes
	// it in an onion service's authorized_clients/*.auth files.
	onionKeyPrefix = "descriptor:x25519:"
	teamFileMax    = 1 << 20
	teamMembersMax = 200
)

// TeamMember is one line of a team file: who can open a route's reports and
// sign staff-channel requests, and, with an onion key, whose tor may reach
// the staff onion service.
type TeamMember struct {
	Name      string
	Recipient *age.HybridRecipient
	SignKey   ed25519.PublicKey
	// OnionKey is the member's onion client-auth key; the zero key (see
	// IsZero) for a line without one, written before onion keys existed.
	OnionKey onion.ClientPublicKey
}

// Team is a parsed team file. Each route names one.
type Team struct {
	Members []TeamMember
}

// FormatSigningKey writes an Ed25519 public key with its type prefix.
func FormatSigningKey(pub ed25519.PublicKey) string {
	return signingKeyPrefix + base64.RawURLEncoding.EncodeToString(pub)
}

// ParseSigningKey reads a key written by FormatSigningKey.
func ParseSigningKey(s string) (ed25519.PublicKey, error) {
	rest, ok := strings.CutPrefix(s, signingKeyPrefix)
	if !ok {
		return nil, errors.New(`signing key must start with "ed25519:"`)
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("signing key is not a valid Ed25519 public key")
	}
	return ed25519.PublicKey(b), nil
}

// LoadTeam reads and parses a team file.
func LoadTeam(path string) (*Team, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to open team file: %w", err)
	}
	defer f.Close()
	t, err := ParseTeam(f)
	if err != nil {
		return nil, fmt.Errorf("team file %s: %w", path, err)
	}
	return t, nil
}

// ParseTeam parses a team file: one member a line,
//
//	<age1pq1... recipient> <ed25519:... signing key> [<descriptor:x25519:... onion key>] <display name>
//
// with blank lines and '#' comments ignored. The onion key is optional, so
// lines written before it existed stay valid; it is recognised by its
// prefix, which no display name may start with. Errors name the line and
// never quote it, since a line holds key material. A member's line is long (the
// recipient alone is nearly 2,000 characters), so an email program often
// cuts it in two; such a line is named as cut, not merely as wrong. A file
// longer than 1 MiB is refused rather than read in part, which would drop
// the members after the cut without a word.
func ParseTeam(r io.Reader) (*Team, error) {
	data, err := io.ReadAll(io.LimitReader(r, teamFileMax+1))
	if err != nil {
		return nil, err
	}
	if len(data) > teamFileMax {
		return nil, errors.New("the file is longer than 1 MiB; a team file holds one short line per member, so this is not one (or it holds far too many comments)")
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	var lines [][]string // the words of each line; nil for blank lines and comments
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			lines = append(lines, nil)
			continue
		}
		lines = append(lines, strings.Fields(line))
	}
	if sc.Err() != nil {
		// The data is in memory: the one error is a line over the buffer.
		return nil, fmt.Errorf("line %d: the line is longer than 64 KiB; a member's line is about 2,000 characters, so this is not one", len(lines)+1)
	}
	t := &Team{}
	seenAge := map[string]int{}
	seenSign := map[string]int{}
	seenOnion := map[string]int{}
	prevMember := false // the last line with words was a member
	for i, f := range lines {
		n := i + 1
		if f == nil {
			continue
		}
		if cut := wrapped(lines, i, prevMember); cut != "" {
			return nil, fmt.Errorf("line %d: this line %s by an email program; put the member's line back on one line", n, cut)
		}
		prevMember = false
		if len(f) < 3 {
			return nil, fmt.Errorf("line %d: expected a recipient, a signing key and a name", n)
		}
		if !strings.HasPrefix(f[0], "age1pq1") {
			return nil, fmt.Errorf("line %d: the first word must be a post-quantum age recipient (age1pq1...)", n)
		}
		rcpt, err := age.ParseHybridRecipient(f[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: the age recipient is not valid (check it was copied whole)", n)
		}
		sign, err := ParseSigningKey(f[1])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		rest := f[2:]
		var onionKey onion.ClientPublicKey
		if hasOnionPrefix(rest[0]) {
			if onionKey, err = onion.ParseClientPublicKey(rest[0]); err != nil {
				return nil, fmt.Errorf("line %d: the onion key is not valid (check it was copied whole)", n)
			}
			if len(rest) == 1 {
				return nil, fmt.Errorf("line %d: expected a name after the onion key", n)
			}
			rest = rest[1:]
		}
		name := strings.Join(rest, " ")
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if prev, ok := seenAge[f[0]]; ok {
			return nil, fmt.Errorf("line %d: this recipient is already on line %d", n, prev)
		}
		if prev, ok := seenSign[f[1]]; ok {
			return nil, fmt.Errorf("line %d: this signing key is already on line %d", n, prev)
		}
		if !onionKey.IsZero() {
			id := onionKey.String()
			if prev, ok := seenOnion[id]; ok {
				return nil, fmt.Errorf("line %d: this onion key is already on line %d", n, prev)
			}
			seenOnion[id] = n
		}
		seenAge[f[0]], seenSign[f[1]] = n, n
		t.Members = append(t.Members, TeamMember{Name: name, Recipient: rcpt, SignKey: sign, OnionKey: onionKey})
		if len(t.Members) > teamMembersMax {
			return nil, fmt.Errorf("line %d: a team can have at most %d members", n, teamMembersMax)
		}
		prevMember = true
	}
	if len(t.Members) == 0 {
		return nil, errors.New("no members: a team file needs at least one member line")
	}
	return t, nil
}

// wrapped says how line i of a team file looks cut by an email program
// ("looks cut in two" for the start of a member's line,
// "looks like the end of a member's line, cut off" for the rest), or ""
// when it does not. afterMember says the line with words before it was a
// member's. Only whole words are looked at, never quoted.
func wrapped(lines [][]string, i int, afterMember bool) string {
	const start, rest = "looks cut in two", "looks like the end of a member's line, cut off"
	f := lines[i]
	if strings.HasPrefix(f[0], "age1pq1") {
		switch {
		case len(f) == 1:
			// The recipient, whole or cut, and nothing after it.
			return start
		case len(f) == 2 && validRecipient(f[0]) && strings.HasPrefix(f[1], signingKeyPrefix):
			if _, err := ParseSigningKey(f[1]); err != nil {
				return start // the signing key was cut
			}
			if next := nextWords(lines, i); next != nil && (!keyLike(next[0]) || hasOnionPrefix(next[0])) {
				return start // the onion key or the name went on to the next line
			}
		case len(f) == 3 && validRecipient(f[0]) && hasOnionPrefix(f[2]):
			if _, err := ParseSigningKey(f[1]); err == nil {
				return start // the onion key was cut, or the name went on
			}
		}
		return ""
	}
	switch {
	case strings.HasPrefix(f[0], signingKeyPrefix) || hasOnionPrefix(f[0]) || bech32Run(f[0]) || base32Run(f[0]):
		return rest
	case afterMember && len(f) < 3 && !slices.ContainsFunc(f, keyLike):
		return rest // the end of the name before it
	}
	return ""
}

// nextWords returns the words of the next line that has any, or nil.
func nextWords(lines [][]string, i int) []string {
	for _, f := range lines[i+1:] {
		if f != nil {
			return f
		}
	}
	return nil
}

func validRecipient(s string) bool {
	_, err := age.ParseHybridRecipient(s)
	return err == nil
}

// keyLike says a word is, or is part of, a recipient, a signing key or an
// onion key.
func keyLike(w string) bool {
	return strings.HasPrefix(w, "age1pq1") || strings.HasPrefix(w, signingKeyPrefix) || hasOnionPrefix(w) || bech32Run(w) || base32Run(w)
}

// base32Run says w looks like a piece of an onion key: a long run of
// capitals and the digits 2-7, as tor writes keys, which no name is.
func base32Run(w string) bool {
	if len(w) < 16 {
		return false
	}
	for _, c := range w {
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// bech32Run says w looks like a piece of an age recipient: a long run of
// the characters of bech32's alphabet, which no name is.
func bech32Run(w string) bool {
	const alphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	if len(w) < 16 {
		return false
	}
	for _, c := range w {
		if !strings.ContainsRune(alphabet, c) {
			return false
		}
	}
	return true
}

// Recipients returns every member's age recipient, to seal to the team.
func (t *Team) Recipients() []age.Recipient {
	rs := make([]age.Recipient, len(t.Members))
	for i, m := range t.Members {
		rs[i] = m.Recipient
	}
	return rs
}

// Lookup finds the member with signing key pub, comparing in constant time.
func (t *Team) Lookup(pub ed25519.PublicKey) (TeamMember, bool) {
	var found TeamMember
	ok := 0
	for _, m := range t.Members {
		if subtle.ConstantTimeCompare(m.SignKey, pub) == 1 {
			found, ok = m, 1
		}
	}
	return found, ok == 1
}

// OnionKeys returns the onion client-auth keys of the members that have
// one, in file order.
func (t *Team) OnionKeys() []onion.ClientPublicKey {
	var ks []onion.ClientPublicKey
	for _, m := range t.Members {
		if !m.OnionKey.IsZero() {
			ks = append(ks, m.OnionKey)
		}
	}
	return ks
}

// hasOnionPrefix reports whether a word starts like an onion key, in either
// case (tor reads either).
func hasOnionPrefix(w string) bool {
	return len(w) >= len(onionKeyPrefix) && strings.EqualFold(w[:len(onionKeyPrefix)], onionKeyPrefix)
}
