package cases

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hearken-project/hearken/vault"
	"golang.org/x/crypto/chacha20poly1305"
)

// Local records (triage, chronology entries, case summaries) are sealed with
// XChaCha20-Poly1305 under the store's data key: 32 random bytes made with
// the store and kept in its meta bucket wrapped with age to the member's own
// recipient, as a vault.KindNote envelope. Every command unwraps it once
// with the member's identity; sealing one small record with age instead
// would cost an ML-KEM encapsulation each. Items from the server are never
// resealed: they stay exactly as they arrived (age, to the team).
//
// A sealed record is a random 24-byte nonce followed by the ciphertext of
// its JSON, padded with spaces to a power of two (at least 512 bytes) so its
// length says little. The bucket name and the record's key are the
// associated data, so a record cannot be moved to another case or bucket.

const (
	dataKeyField  = "store-data-key"
	minLocalSize  = 512
	maxLocalPlain = 4 << 20
)

// localKey seals and opens local records. It never prints its key.
type localKey struct{ aead cipher.AEAD }

func (*localKey) String() string { return "[REDACTED]" }

func (*localKey) GoString() string { return "[REDACTED]" }

// Format prints "[REDACTED]" for every verb.
func (*localKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[REDACTED]")) }

// newDataKey makes a data key and returns it wrapped to m.
func newDataKey(m *vault.Member) ([]byte, error) {
	key := make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	defer clear(key)
	e := &vault.Envelope{Kind: vault.KindNote,
		Fields: []vault.Field{{Name: dataKeyField, Value: base64.StdEncoding.EncodeToString(key)}}}
	return vault.Seal(e, m.Recipient())
}

// unwrapDataKey opens the wrapped data key with m's identity.
func unwrapDataKey(wrapped []byte, m *vault.Member) (*localKey, error) {
	e, err := vault.Open(wrapped, m.Identity())
	if err != nil {
		return nil, err
	}
	if e.Kind != vault.KindNote {
		return nil, vault.ErrMalformed
	}
	key, err := base64.StdEncoding.DecodeString(e.Field(dataKeyField))
	if err != nil || len(key) != chacha20poly1305.KeySize {
		return nil, vault.ErrMalformed
	}
	defer clear(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	return &localKey{aead: aead}, nil
}

func localAD(bucket, key []byte) []byte {
	ad := make([]byte, 0, len(bucket)+1+len(key))
	ad = append(ad, bucket...)
	ad = append(ad, 0)
	return append(ad, key...)
}

// seal encodes v and seals it for bucket/key.
func (k *localKey) seal(bucket, key []byte, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	size := minLocalSize
	for size < len(data) {
		size *= 2
	}
	ns := k.aead.NonceSize()
	out := make([]byte, ns, ns+size+k.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	plain := make([]byte, size)
	copy(plain, data)
	for i := len(data); i < size; i++ {
		plain[i] = ' '
	}
	out = k.aead.Seal(out, out[:ns], plain, localAD(bucket, key))
	clear(plain)
	clear(data)
	return out, nil
}

var errLocalRecord = errors.New("a local record failed its integrity check")

// open opens a record sealed for bucket/key into v.
func (k *localKey) open(bucket, key, sealed []byte, v any) error {
	ns := k.aead.NonceSize()
	if len(sealed) < ns+k.aead.Overhead() || len(sealed) > ns+maxLocalPlain+k.aead.Overhead() {
		return fmt.Errorf("%w: %w", ErrStoreCorrupt, errLocalRecord)
	}
	plain, err := k.aead.Open(nil, sealed[:ns], sealed[ns:], localAD(bucket, key))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStoreCorrupt, errLocalRecord)
	}
	defer clear(plain)
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("%w: an unreadable local record", ErrStoreCorrupt)
	}
	return nil
}
