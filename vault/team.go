package vault

import (
	"bufio"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"
)

const (
	signingKeyPrefix = "ed25519:"
	teamFileMax      = 1 << 20
	teamMembersMax   = 200
)

// TeamMember is one line of a team file: who can open a route's reports and
// sign staff-channel requests.
type TeamMember struct {
	Name      string
	Recipient *age.HybridRecipient
	SignKey   ed25519.PublicKey
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
//	<age1pq1... recipient> <ed25519:... signing key> <display name>
//
// with blank lines and '#' comments ignored. Errors name the line and never
// quote it, since a line holds key material.
func ParseTeam(r io.Reader) (*Team, error) {
	sc := bufio.NewScanner(io.LimitReader(r, teamFileMax))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	t := &Team{}
	seenAge := map[string]int{}
	seenSign := map[string]int{}
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
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
		name := strings.Join(f[2:], " ")
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if prev, ok := seenAge[f[0]]; ok {
			return nil, fmt.Errorf("line %d: this recipient is already on line %d", n, prev)
		}
		if prev, ok := seenSign[f[1]]; ok {
			return nil, fmt.Errorf("line %d: this signing key is already on line %d", n, prev)
		}
		seenAge[f[0]], seenSign[f[1]] = n, n
		t.Members = append(t.Members, TeamMember{Name: name, Recipient: rcpt, SignKey: sign})
		if len(t.Members) > teamMembersMax {
			return nil, fmt.Errorf("line %d: a team can have at most %d members", n, teamMembersMax)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	if len(t.Members) == 0 {
		return nil, errors.New("no members: a team file needs at least one member line")
	}
	return t, nil
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
