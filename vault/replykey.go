package vault

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

const (
	replyKeyInfo = "hearken reply key v1"
	saltSize     = 32
	lookupKey    = 32
)

// errUnwrap is returned when a reply secret does not open. To a reporter it
// looks the same as a missing thread.
var errUnwrap = errors.New("reply key did not open")

// lookupID is the thread's index key: HMAC-SHA256 of the canonical receipt
// under the deployment's random lookup key. Receipts carry 115 random bits,
// so a slow KDF would add nothing but work for a flooder.
func lookupID(key []byte, r Receipt) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(r.canonical())
	return m.Sum(nil)
}

// replyWrapKey derives the key that wraps a thread's reply identity.
func replyWrapKey(r Receipt, salt []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, r.canonical(), salt, replyKeyInfo, chacha20poly1305.KeySize)
}

// wrapReplyIdentity seals a thread's reply identity under the receipt, bound
// to the thread id. Only the result is stored.
func wrapReplyIdentity(r Receipt, salt, threadID []byte, secret string) ([]byte, error) {
	key, err := replyWrapKey(r, salt)
	if err != nil {
		return nil, fmt.Errorf("failed to derive reply key: %w", err)
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("failed to derive reply key: %w", err)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(secret)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("failed to read randomness: %w", err)
	}
	return aead.Seal(nonce, nonce, []byte(secret), threadID), nil
}

// unwrapReplyIdentity reverses wrapReplyIdentity.
func unwrapReplyIdentity(r Receipt, salt, threadID, wrapped []byte) (*age.HybridIdentity, error) {
	key, err := replyWrapKey(r, salt)
	if err != nil {
		return nil, errUnwrap
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil || len(wrapped) < aead.NonceSize()+aead.Overhead() {
		return nil, errUnwrap
	}
	plain, err := aead.Open(nil, wrapped[:aead.NonceSize()], wrapped[aead.NonceSize():], threadID)
	if err != nil {
		return nil, errUnwrap
	}
	id, err := age.ParseHybridIdentity(string(plain))
	if err != nil {
		return nil, errUnwrap
	}
	return id, nil
}
