package vault

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// A member's page of the staff queue ends at a position: a route and a
// place in that route's queue. The next page starts after it. The position
// leaves the server only sealed, as an opaque cursor: XChaCha20-Poly1305
// under a random per-deployment key kept in the store, with the member's
// key as associated data. So a member learns no queue position, not even
// of their own routes (nothing to count arrivals by), and a cursor is good
// for the member it was made for only. The reviewer keeps none: a sync
// starts from the beginning and uses cursors only between its pages.

const (
	cursorKeySize = chacha20poly1305.KeySize
	cursorContext = "hearken staff cursor v1\n"
	// maxCursor bounds a cursor's text: a nonce, a route name, a position
	// and a tag, in base64.
	maxCursor = 512
)

// ErrBadCursor means a page cursor is not one this server made for this
// member, or it was made before the server's store was replaced.
var ErrBadCursor = errors.New("the page cursor is not valid: start again from the beginning")

// position is a place in the staff queues: after position seq of route's
// queue, and after every route that sorts before it. The zero position is
// before everything.
type position struct {
	route string
	seq   uint64
}

// sealCursor seals p for member.
func (s *Store) sealCursor(member string, p position) (string, error) {
	aead, err := chacha20poly1305.NewX(s.cursorKey.reveal())
	if err != nil {
		return "", fmt.Errorf("failed to seal cursor: %w", err)
	}
	plain := binary.BigEndian.AppendUint64(nil, p.seq)
	plain = append(plain, p.route...)
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("failed to read randomness: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, []byte(cursorContext+member))), nil
}

// openCursor reverses sealCursor; "" is the zero position.
func (s *Store) openCursor(member, c string) (position, error) {
	if c == "" {
		return position{}, nil
	}
	if len(c) > maxCursor {
		return position{}, ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return position{}, ErrBadCursor
	}
	aead, err := chacha20poly1305.NewX(s.cursorKey.reveal())
	if err != nil || len(b) < aead.NonceSize()+aead.Overhead()+8 {
		return position{}, ErrBadCursor
	}
	plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(cursorContext+member))
	if err != nil || len(plain) < 8 {
		return position{}, ErrBadCursor
	}
	return position{route: string(plain[8:]), seq: binary.BigEndian.Uint64(plain)}, nil
}
