package onion

import (
	"bytes"
	"crypto/sha3"
	"encoding/base32"
	"errors"
	"strings"
)

// ErrBadAddress means a text is not a version 3 onion address. Tor answers
// the same mistake with SOCKS error 0xF6; checking first saves a round trip
// and gives the same words.
var ErrBadAddress = errors.New("this is not a valid onion address (56 letters and digits, then .onion)")

// idB32 is the onion address alphabet: RFC 4648 base32 in lower case.
var idB32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// ServiceID checks a version 3 onion address ("<56 letters>.onion" or the
// 56 letters alone, in either case) and returns the 56 letters in lower
// case, as tor's files and control port want them. The checksum is
// verified, so a mistyped address is caught here.
func ServiceID(addr string) (string, error) {
	id := strings.ToLower(strings.TrimSpace(addr))
	id = strings.TrimSuffix(id, ".onion")
	if len(id) != 56 {
		return "", ErrBadAddress
	}
	raw, err := idB32.DecodeString(strings.ToUpper(id))
	// rend-spec-v3 6: PUBKEY (32) | CHECKSUM (2) | VERSION (1), where
	// CHECKSUM = SHA3-256(".onion checksum" | PUBKEY | VERSION)[:2].
	if err != nil || len(raw) != 35 || raw[34] != 3 {
		return "", ErrBadAddress
	}
	h := sha3.New256()
	h.Write([]byte(".onion checksum"))
	h.Write(raw[:32])
	h.Write(raw[34:])
	if !bytes.Equal(h.Sum(nil)[:2], raw[32:34]) {
		return "", ErrBadAddress
	}
	return id, nil
}
