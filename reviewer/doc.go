// Package reviewer is the safeguarding team's command line, run by
// cmd/reviewer: Main parses the command and its options, asks for the
// passphrase (passphrase.go), calls package cases, which holds the case
// store, the staff-channel client and sync, and prints the result as text
// or JSON (print.go). Each command has its own file.
//
// Errors from cases say what is wrong; hint.go adds what to do about it.
// Everything printed that did not come from this package's own text goes
// through clean, so no report or server answer can drive the terminal.
package reviewer
