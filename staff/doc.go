// Package staff is the protocol of Hearken's staff channel: the small HTTP
// API through which the safeguarding team's reviewer tool fetches sealed
// reports and follow-ups from the intake server, pushes sealed team items
// (replies, and team events: a case's shared triage and notes) and
// acknowledges what it has stored. The server cannot tell a team event from
// a reply: both are pushed to [RepliesPath], stored and served as kind
// "reply", and only the sealed envelope says which it is.
//
// Both sides import this package and never each other: the intake server
// (package intake) serves the channel and verifies requests with a
// [Verifier]; the reviewer (package reviewer) signs requests with [Sign] and
// decodes the answers. The package holds only what both must agree on: the
// paths ([ItemsPath], [RepliesPath], [AcksPath], [ResendPath]), the
// limits, the JSON bodies ([Item], [ItemsResponse], [ReplyRequest],
// [AckRequest], ...), and request signing. Keys, envelopes and the store
// are package vault's.
//
// No answer carries a queue position or any count of items: each route has
// its own queue on the server, a page of items ends with an opaque cursor
// sealed for the member, and a member learns nothing of another route's
// activity.
//
// Everything that travels is already sealed with age to the team (and, for
// replies, to the reporter's per-thread key), so the channel carries no
// plaintext. It listens on a unix socket, loopback or an onion service,
// never beside the public site.
//
// # Signed requests
//
// Every request is signed by a team member's Ed25519 key (the one in their
// identity file, listed in a route's team file). [Sign] makes four headers:
//
//	Hearken-Member     the member's public key, "ed25519:..."
//	Hearken-Time       unix seconds
//	Hearken-Nonce      16 random bytes, lowercase hex
//	Hearken-Signature  standard base64 of the signature
//
// The signature covers, one per line, the context string "hearken-staff-v1",
// the method, the path, the raw query (as sent, without "?"), the timestamp,
// the nonce and the hex SHA-256 of the body. Changing any of them, or
// sending the request to another endpoint, breaks the signature.
//
// The server's [Verifier] accepts a request only if its key belongs to a
// member of one of the routes' teams, its timestamp is within five minutes
// of the server's clock either way, the signature is good, and its nonce has
// not been seen from that member while the timestamp could still be in the
// window (a bounded replay cache; when full it refuses rather than forget).
// A verified caller is a [Member], who may use the routes whose team lists
// them. The server may replace the teams while it runs ([Verifier.SetTeams],
// when it reads its team files again): a member taken out is refused from
// that moment, and the replay cache, keyed by public key, carries over. Every refusal is the same error and the same 401 "unauthorized"
// answer, after the same work: one signature verification (against a
// decoy key when the key is unknown), so its timing says nothing either; [UnauthorizedReason] tells the server why, for counting in logs,
// without any detail of the request.
package staff
