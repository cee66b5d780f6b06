// Package desk is `reviewer serve`: the safeguarding lead's desk, a small
// web application on the lead's own computer over the same encrypted case
// store as the command line (package cases). It shows the inbox, each
// case with its attachments and chronology, a reply composer with a
// preview, triage and notes, guidance for the categories that need it (in
// the languages of the public site: guidance.go, lang.go), the statistics
// a school's annual safeguarding plan asks for, and an encrypted backup of
// everything to download (backup.go). Pages work without JavaScript; the
// desk sends none.
//
// # Who it defends against
//
// The desk listens on a loopback address only, so the network cannot
// reach it. What can is another user or program on the same computer, and
// any web page open in the lead's browser. So:
//
//   - The first request must carry a one-time token, printed on standard
//     output; it becomes a session cookie (HttpOnly, SameSite=Strict) and
//     is dropped from the address by a redirect. A second use fails.
//   - Every request's Host header must name the desk's own address, which
//     defeats DNS rebinding.
//   - Every POST carries a token tied to the session and must come from
//     the desk's own pages (Origin, and Sec-Fetch-Site where sent).
//   - Pages forbid framing, scripts and anything from another host, and
//     are never cached.
//   - After a period without use the desk locks: the member's key, the
//     open store and every decrypted cache are dropped, and the passphrase
//     is asked for again.
//
// SECURITY.md has the whole threat model.
package desk
