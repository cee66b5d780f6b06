package testkit

import (
	"bytes"
	"testing"

	"filippo.io/age"
)

// SealedToKey returns plain as an age file sealed to a fresh hybrid key,
// not a passphrase: what a file meant to open with a passphrase must be
// told apart from.
func SealedToKey(t testing.TB, plain []byte) []byte {
	t.Helper()
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
