package onion

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// keyPrefix starts both halves of a client-auth key in tor's files:
// authorized_clients/*.auth hold "descriptor:x25519:<public key>" and
// ClientOnionAuthDir/*.auth_private hold "<id>:descriptor:x25519:<private key>".
const keyPrefix = "descriptor:x25519:"

// keyB32 is tor's base32 for keys: RFC 4648 without padding. tor writes and
// the tor manual shows it in capitals; tor reads either case.
var keyB32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// keyTextLen is the length of a 32-byte key in keyB32.
const keyTextLen = 52

// ErrBadKey means a client-auth key's text is not in tor's format. Parse
// errors never repeat the text they were given.
var ErrBadKey = errors.New("not an onion client-auth key (descriptor:x25519:<52 base32 letters>)")

// ClientKey is the secret half of an onion client-authorization key: the
// x25519 key that lets one tor client decrypt a client-authorized onion
// service's descriptor. It prints as [REDACTED]; only Bytes, AuthPrivate and
// Control.AddClientAuth reveal it.
type ClientKey struct {
	k *ecdh.PrivateKey
}

// GenerateClientKey makes a fresh key from crypto/rand.
func GenerateClientKey() (*ClientKey, error) {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("failed to generate onion client key: %w", err)
	}
	return &ClientKey{k: k}, nil
}

// NewClientKey returns the key whose 32 secret bytes are b, as Bytes gave
// them (for a key kept inside an encrypted identity file).
func NewClientKey(b []byte) (*ClientKey, error) {
	k, err := ecdh.X25519().NewPrivateKey(b)
	if err != nil {
		return nil, ErrBadKey
	}
	return &ClientKey{k: k}, nil
}

// Bytes returns the 32 secret bytes. Keep them encrypted at rest.
func (k *ClientKey) Bytes() []byte { return k.k.Bytes() }

// Public returns the half the onion service holds.
func (k *ClientKey) Public() ClientPublicKey {
	var p ClientPublicKey
	copy(p.b[:], k.k.PublicKey().Bytes())
	return p
}

// AuthPrivate returns the line tor reads from a ClientOnionAuthDir file
// (named anything ending in ".auth_private"): the service's 56-letter id,
// then ":descriptor:x25519:" and the base32 secret key, then a newline.
// serviceID may carry ".onion".
func (k *ClientKey) AuthPrivate(serviceID string) (string, error) {
	id, err := ServiceID(serviceID)
	if err != nil {
		return "", err
	}
	return id + ":" + keyPrefix + keyB32.EncodeToString(k.k.Bytes()) + "\n", nil
}

// ParseAuthPrivate reads a ClientOnionAuthDir file's line back into the
// service id and the key. It accepts what tor accepts: either case for the
// key, surrounding white space, and an id with or without ".onion".
func ParseAuthPrivate(line string) (serviceID string, k *ClientKey, err error) {
	id, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
	if !ok {
		return "", nil, ErrBadKey
	}
	if serviceID, err = ServiceID(id); err != nil {
		return "", nil, err
	}
	b, err := decodeKey(rest)
	if err != nil {
		return "", nil, err
	}
	k, err = NewClientKey(b)
	if err != nil {
		return "", nil, err
	}
	return serviceID, k, nil
}

// controlBlob is the key as ONION_CLIENT_AUTH_ADD takes it: "x25519:" and
// standard base64 (not base32, unlike tor's files).
func (k *ClientKey) controlBlob() string {
	return "x25519:" + base64.StdEncoding.EncodeToString(k.k.Bytes())
}

// Equal reports whether k and o are the same key, in constant time.
func (k *ClientKey) Equal(o *ClientKey) bool {
	return subtle.ConstantTimeCompare(k.k.Bytes(), o.k.Bytes()) == 1
}

// String returns "[REDACTED]": a ClientKey is a secret.
func (k *ClientKey) String() string { return "[REDACTED]" }

// GoString returns "[REDACTED]", for %#v.
func (k *ClientKey) GoString() string { return "[REDACTED]" }

// Format prints "[REDACTED]" for every verb, so %x or %d reveal nothing.
func (k *ClientKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[REDACTED]")) }

// MarshalText returns "[REDACTED]", so encoders such as JSON reveal nothing.
func (k *ClientKey) MarshalText() ([]byte, error) { return []byte("[REDACTED]"), nil }

// ClientPublicKey is the public half of a ClientKey. Its text,
// "descriptor:x25519:<52 base32 letters>", is exactly what tor reads from an
// onion service's authorized_clients/<name>.auth file.
type ClientPublicKey struct {
	b [32]byte
}

// ParseClientPublicKey reads the text String writes. Either case is
// accepted, as tor does.
func ParseClientPublicKey(s string) (ClientPublicKey, error) {
	var p ClientPublicKey
	b, err := decodeKey(strings.TrimSpace(s))
	if err != nil {
		return p, err
	}
	copy(p.b[:], b)
	return p, nil
}

// String returns "descriptor:x25519:" and the key in base32 capitals.
func (p ClientPublicKey) String() string { return keyPrefix + keyB32.EncodeToString(p.b[:]) }

// MarshalText returns String's text.
func (p ClientPublicKey) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads String's text.
func (p *ClientPublicKey) UnmarshalText(b []byte) error {
	q, err := ParseClientPublicKey(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// Equal reports whether p and o are the same key.
func (p ClientPublicKey) Equal(o ClientPublicKey) bool {
	return subtle.ConstantTimeCompare(p.b[:], o.b[:]) == 1
}

// IsZero reports whether p is the zero value rather than a parsed key.
func (p ClientPublicKey) IsZero() bool { return p == ClientPublicKey{} }

// decodeKey reads "descriptor:x25519:<52 base32 letters>" into 32 bytes.
// Only the canonical encoding is accepted, so one key has one text.
func decodeKey(s string) ([]byte, error) {
	rest, ok := cutPrefixFold(s, keyPrefix)
	if !ok || len(rest) != keyTextLen {
		return nil, ErrBadKey
	}
	rest = strings.ToUpper(rest)
	b, err := keyB32.DecodeString(rest)
	if err != nil || len(b) != 32 || keyB32.EncodeToString(b) != rest {
		return nil, ErrBadKey
	}
	return b, nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}
