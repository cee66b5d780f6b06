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
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"filippo.io/age"

	"github.com/hearken-project/hearken/internal/onion"
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
// reports, an Ed25519 key that signs staff-channel requests, and an x25519
// onion client-authorization key that lets the member's tor reach the staff
// onion service. All live in one passphrase-protected file on the member's
// own machine. Identity files made before onion keys existed have none
// until AddOnionKey gives them one.
//
// It prints as [REDACTED], as a value or a pointer. Its keys sit behind
// pointers, so a Member nested in another value, even in an unexported
// field where fmt calls none of its methods, prints only addresses.
type Member struct {
	Name string

	identity *age.HybridIdentity
	signing  secret // an ed25519.PrivateKey
	onion    *onion.ClientKey
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
	ok, err := onion.GenerateClientKey()
	if err != nil {
		return nil, err
	}
	return &Member{Name: name, identity: id, signing: newSecret(sk), onion: ok}, nil
}

func checkName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errors.New("a member needs a display name")
	case len(name) > maxNameLen:
		return fmt.Errorf("a display name can be at most %d bytes", maxNameLen)
	case !utf8.ValidString(name) || strings.ContainsAny(name, "\r\n\t#"):
		return errors.New("a display name must be one line of text without '#'")
	case hasOnionPrefix(strings.TrimSpace(name)):
		// A team line's onion key is recognised by this prefix.
		return fmt.Errorf("a display name cannot start with %q", onionKeyPrefix)
	}
	return nil
}

// Identity returns the age identity that opens reports sealed to this member.
func (m *Member) Identity() *age.HybridIdentity { return m.identity }

// Recipient returns the age recipient that seals to this member.
func (m *Member) Recipient() *age.HybridRecipient { return m.identity.Recipient() }

// Sign signs msg with the member's Ed25519 key.
func (m *Member) Sign(msg []byte) []byte { return ed25519.Sign(m.signingKey(), msg) }

func (m *Member) signingKey() ed25519.PrivateKey { return ed25519.PrivateKey(m.signing.reveal()) }

// SigningPublic returns the member's Ed25519 public key.
func (m *Member) SigningPublic() ed25519.PublicKey {
	return m.signingKey().Public().(ed25519.PublicKey)
}

// OnionKey returns the member's onion client-authorization key, or nil
// for an identity file made before onion keys (see AddOnionKey).
func (m *Member) OnionKey() *onion.ClientKey { return m.onion }

// TeamLine returns the member's line for a team file (and member.pub): the
// age recipient, the signing key, the onion client-auth key if the member
// has one, and the name.
func (m *Member) TeamLine() string {
	keys := m.Recipient().String() + " " + FormatSigningKey(m.SigningPublic())
	if m.onion != nil {
		keys += " " + m.onion.Public().String()
	}
	return keys + " " + m.Name
}

// String returns "[REDACTED]": a Member holds secret keys. It and the
// methods below take a value, so a Member prints the same as a pointer.
func (Member) String() string { return "[REDACTED]" }

// GoString returns "[REDACTED]", for %#v.
func (Member) GoString() string { return "[REDACTED]" }

// Format prints "[REDACTED]" for every verb.
func (Member) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[REDACTED]")) }

// MarshalText returns "[REDACTED]", so encoders such as JSON reveal nothing.
func (Member) MarshalText() ([]byte, error) { return []byte("[REDACTED]"), nil }

func (m *Member) marshal() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n", memberHeader)
	fmt.Fprintf(&b, "name: %s\n", m.Name)
	fmt.Fprintf(&b, "age-identity: %s\n", m.identity.String())
	fmt.Fprintf(&b, "ed25519-seed: %s\n", base64.RawURLEncoding.EncodeToString(m.signingKey().Seed()))
	if m.onion != nil {
		fmt.Fprintf(&b, "onion-x25519: %s\n", base64.RawURLEncoding.EncodeToString(m.onion.Bytes()))
	}
	return b.Bytes()
}

// SaveMember writes m to path, encrypted with an age scrypt passphrase. The
// file is created with O_EXCL and mode 0600; an existing file gives ErrExists.
func SaveMember(path string, m *Member, passphrase string) error {
	sealed, err := sealMember(m, passphrase)
	if err != nil {
		return err
	}
	return WriteNewFile(path, sealed, 0o600)
}

func sealMember(m *Member, passphrase string) ([]byte, error) {
	if passphrase == "" {
		return nil, errors.New("a passphrase is required")
	}
	rcpt, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, fmt.Errorf("failed to use passphrase: %w", err)
	}
	rcpt.SetWorkFactor(workfactor.Scrypt())
	var sealed bytes.Buffer
	w, err := age.Encrypt(&sealed, rcpt)
	if err != nil {
		return nil, fmt.Errorf("failed to encrypt identity: %w", err)
	}
	if _, err := w.Write(m.marshal()); err != nil {
		return nil, fmt.Errorf("failed to encrypt identity: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("failed to encrypt identity: %w", err)
	}
	return sealed.Bytes(), nil
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
	return OpenMember(sealed, passphrase)
}

// OpenMember decrypts the contents of a member identity file: for a
// caller that keeps the bytes it checked (a backup), so that what it
// checked and what it keeps cannot differ.
func OpenMember(sealed []byte, passphrase string) (*Member, error) {
	if len(sealed) > memberFileMax {
		return nil, errors.New("identity file is too large to be a Hearken identity")
	}
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, fmt.Errorf("failed to use passphrase: %w", err)
	}
	r, err := age.Decrypt(bytes.NewReader(sealed), id)
	var noMatch *age.NoIdentityMatchError
	// age answers "no identity matched" both for a wrong passphrase and
	// for a file sealed to keys, which no passphrase opens.
	if errors.As(err, &noMatch) && !slices.Contains(noMatch.StanzaTypes, "scrypt") {
		return nil, errors.New("the identity file is sealed to a key rather than a passphrase, so it is not a Hearken identity file")
	}
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
			m.signing = newSecret(ed25519.NewKeyFromSeed(seed))
		case "onion-x25519":
			// Optional: files made before onion keys do not have it.
			b, err := base64.RawURLEncoding.DecodeString(v)
			if err != nil || len(b) != 32 || m.onion != nil {
				return nil, bad
			}
			if m.onion, err = onion.NewClientKey(b); err != nil {
				return nil, bad
			}
		default:
			return nil, bad
		}
	}
	if m.identity == nil || m.signing.isZero() || checkName(m.Name) != nil {
		return nil, bad
	}
	return m, nil
}

// AddOnionKey gives the identity file at path an onion client-auth key if
// it has none (files made before onion keys existed), and returns the
// member with it; added says whether the file changed. The keys already in
// the file are kept as they are, so nothing sealed to the member is lost:
// the new file is written beside the old one, opened and compared, and
// only then renamed over it; the old file stays as path+".before-onion-key".
// A failure at any step leaves the original file in place.
func AddOnionKey(path, passphrase string) (m *Member, added bool, err error) {
	m, err = LoadMember(path, passphrase)
	if err != nil || m.onion != nil {
		return m, false, err
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("failed to read identity file: %w", err)
	}
	k, err := onion.GenerateClientKey()
	if err != nil {
		return nil, false, err
	}
	up := &Member{Name: m.Name, identity: m.identity, signing: m.signing, onion: k}
	sealed, err := sealMember(up, passphrase)
	if err != nil {
		return nil, false, err
	}
	backup := path + ".before-onion-key"
	if err := WriteNewFile(backup, orig, 0o600); errors.Is(err, ErrExists) {
		// Left by an attempt that stopped before the rename: it must be
		// this very file, or it is not ours to replace.
		if prev, rerr := os.ReadFile(backup); rerr != nil || !bytes.Equal(prev, orig) {
			return nil, false, fmt.Errorf("%s is in the way; move it elsewhere and try again", backup)
		}
	} else if err != nil {
		return nil, false, fmt.Errorf("failed to keep a copy of the identity file: %w", err)
	}
	tmp := path + ".new"
	os.Remove(tmp) // only ever a half-finished copy of ours
	if err := WriteNewFile(tmp, sealed, 0o600); err != nil {
		return nil, false, err
	}
	check, err := LoadMember(tmp, passphrase)
	if err != nil || !check.sameKeys(up) {
		os.Remove(tmp)
		return nil, false, errors.New("the identity file with the onion key did not read back the same; nothing was changed")
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return nil, false, fmt.Errorf("failed to replace the identity file: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return up, true, nil
}

// sameKeys reports whether m and o hold the same name and keys.
func (m *Member) sameKeys(o *Member) bool {
	if m.Name != o.Name || m.identity.String() != o.identity.String() || !m.signingKey().Equal(o.signingKey()) {
		return false
	}
	if m.onion == nil || o.onion == nil {
		return m.onion == o.onion
	}
	return m.onion.Equal(o.onion)
}
