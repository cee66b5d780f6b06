// Package workfactor holds the scrypt work factor of passphrase-protected
// identity files. Every program writes them at age's default; only a test
// binary can lower it, so that script tests, which start a reviewer
// process for each command, do not spend a second on each.
//
// It is a package of its own, below vault, so that internal/testkit can
// lower it without importing vault (vault's own tests use testkit).
package workfactor

import "testing"

// Default is age's default work factor, 2^18: about a second on a laptop,
// once per reviewer command.
const Default = 18

var logN = Default

// Scrypt returns the work factor for new identity files.
func Scrypt() int { return logN }

// LowerForTests sets the work factor for this process. It works only in a
// binary built by go test (internal/testkit calls it from TestMain); any
// other program that calls it panics, so no production build can write an
// identity file that is cheap to guess.
func LowerForTests(n int) {
	if !testing.Testing() {
		panic("workfactor: LowerForTests called outside a test binary")
	}
	logN = n
}
