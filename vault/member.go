package vault

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"filippo.io/age"

	"github.com/hearken-project/hearken/internal/workfactor"
)

var (
	// ErrWrongPassphrase means the identity file did not open with the
	// passphrase given.
	ErrWrongPassphrase = errors.New("wrong passphrase for this identity file")
	// ErrExists means a key file is already there; key files are never
	// overwritten.
	ErrExists = errors.New("file already exists; it will not be overwritten")
)

const (
	memberHeader = "hearken-member-v1"
	// memberFileMax bounds what LoadMember reads from disk.
	memberFileMax = 64 << 10
	// maxNameLen bounds a display name in bytes.
	maxNameLen = 100
)

// Member is one team member's secret keys: an age hybrid identity that opens
// reports and an Ed25519 key that signs staff-channel requests. Both live in
// one passphrase-protected file on the member's own machine.
type Member struct {
	Name string

	identity *age.HybridIdentity
	signing  ed25519.PrivateKey
}

// GenerateMember creates a member with fresh keys.
func GenerateMember(name string) (*Member, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		return nil, fmt.Errorf("failed to generate identity: %w", err)
	}
	_, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("failed to generate signing key: %w", err)
	}
	return &Member{Name: name, identity: id, signing: sk}, nil
}

func checkName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errors.New("a member needs a display name")
	case len(name) > maxNameLen:
		return fmt.Errorf("a display name can be at most %d bytes", maxNameLen)
	case !utf8.ValidString(name) || strings.ContainsAny(name, "\r\n\t#"):
		return errors.New("a display name must be one line of text without '#'")
	}
	return nil
}

// Identity returns the age identity that opens reports sealed to this member.
func (m *Member) Identity() *age.HybridIdentity { return m.identity }

// Recipient returns the age recipient that seals to this member.
func (m *Member) Recipient() *age.HybridRecipient { return m.identity.Recipient() }

// Sign signs msg with the member's Ed25519 key.
func (m *Member) Sign(msg []byte) []byte { return ed25519.Sign(m.signing, msg) }

// SigningPublic returns the member's Ed25519 public key.
func (m *Member) SigningPublic() ed25519.PublicKey {
	return m.signing.Public().(ed25519.PublicKey)
}

// TeamLine returns the member's line for a team file.
func (m *Member) TeamLine() string {
	return m.Recipient().String() + " " + FormatSigningKey(m.SigningPublic()) + " " + m.Name
}

// String returns "[REDACTED]": a Member holds secret keys.
func (m *Member) String() string { return "[REDACTED]" }

// GoString returns "[REDACTED]", for %#v.
func (m *Member) GoString() string { return "[REDACTED]" }

// Format prints "[REDACTED]" for every verb.
func (m *Member) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[REDACTED]")) }

func (m *Member) marshal() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n", memberHeader)
	fmt.Fprintf(&b, "name: %s\n", m.Name)
	fmt.Fprintf(&b, "age-identity: %s\n", m.identity.String())
	fmt.Fprintf(&b, "ed25519-seed: %s\n", base64.RawURLEncoding.EncodeToString(m.signing.Seed()))
	return b.Bytes()
}

// SaveMember writes m to path, encrypted with an age scrypt passphrase. The
// file is created with O_EXCL and mode 0600; an existing file gives ErrExists.
func SaveMember(path string, m *Member, passphrase string) error {
	if passphrase == "" {
		return errors.New("a passphrase is required")
	}
	rcpt, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return fmt.Errorf("failed to use passphrase: %w", err)
	}
	rcpt.SetWorkFactor(workfactor.Scrypt())
	var sealed bytes.Buffer
	w, err := age.Encrypt(&sealed, rcpt)
	if err != nil {
		return fmt.Errorf("failed to encrypt identity: %w", err)
	}
	if _, err := w.Write(m.marshal()); err != nil {
		return fmt.Errorf("failed to encrypt identity: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("failed to encrypt identity: %w", err)
	}
	return WriteNewFile(path, sealed.Bytes(), 0o600)
}

// WriteNewFile creates path with O_EXCL and the given mode, writes data and
// syncs it. An existing file gives ErrExists and is left alone; a failed
// write leaves no file behind.
func WriteNewFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, os.ErrExist) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("failed to create file: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("failed to write file: %w", err)
	}
	return nil
}

// LoadMember reads and decrypts a member identity file.
func LoadMember(path string, passphrase string) (*Member, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to open identity file: %w", err)
	}
	defer f.Close()
	sealed, err := io.ReadAll(io.LimitReader(f, memberFileMax+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read identity file: %w", err)
	}
	if len(sealed) > memberFileMax {
		return nil, errors.New("identity file is too large to be a Hearken identity")
	}
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, fmt.Errorf("failed to use passphrase: %w", err)
	}
	r, err := age.Decrypt(bytes.NewReader(sealed), id)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		return nil, ErrWrongPassphrase
	}
	if err != nil {
		return nil, errors.New("this is not a Hearken identity file, or it is damaged")
	}
	plain, err := io.ReadAll(io.LimitReader(r, memberFileMax))
	if err != nil {
		return nil, errors.New("identity file is damaged")
	}
	return parseMember(plain)
}

func parseMember(plain []byte) (*Member, error) {
	bad := errors.New("identity file is damaged or of an unknown version")
	sc := bufio.NewScanner(bytes.NewReader(plain))
	if !sc.Scan() || sc.Text() != memberHeader {
		return nil, bad
	}
	m := &Member{}
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			return nil, bad
		}
		switch k {
		case "name":
			m.Name = v
		case "age-identity":
			id, err := age.ParseHybridIdentity(v)
			if err != nil {
				return nil, bad // age's message may quote the key
			}
			m.identity = id
		case "ed25519-seed":
			seed, err := base64.RawURLEncoding.DecodeString(v)
			if err != nil || len(seed) != ed25519.SeedSize {
				return nil, bad
			}
			m.signing = ed25519.NewKeyFromSeed(seed)
		default:
			return nil, bad
		}
	}
	if m.identity == nil || m.signing == nil || checkName(m.Name) != nil {
		return nil, bad
	}
	return m, nil
}
