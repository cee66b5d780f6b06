// Package deploy holds the files an operator installs next to the intake
// server: the Tor configuration (torrc), the systemd unit and their notes.
// Its tests check those files against the real tools.
package deploy
