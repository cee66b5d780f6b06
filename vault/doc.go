// Package vault is Hearken's sealed store, shared by the intake server and the
// team's reviewer tool.
//
// It holds the team's keys and team files, the envelopes reports and replies
// are sealed in (age, post-quantum hybrid), the receipts reporters keep, the
// per-thread reply keys, and the bbolt file that stores only ciphertext. It
// knows nothing of HTTP or terminals: the staff channel that carries sealed
// items between the two sides (paths, wire types, request signing) is package
// staff, which builds on this one.
//
// SECURITY.md in the repository root describes the design and its reasons.
package vault
