// Package cases is the safeguarding team's side of Hearken as a library:
// the local encrypted case store on a team member's own computer, the
// client of the intake server's staff channel, and sync between the two.
// The command line (package reviewer) and the lead's local web desk are
// built on it; neither keeps any case data of its own.
//
// # The store
//
// A store is one bbolt file, cases.db, in the member's store folder
// (beside config.toml, the team files under teams/ and usually the
// member's identity). Open opens it with the member's identity; a missing
// store is made only when asked (sync does), and an existing file is never
// recreated: a damaged one is refused and left as it is.
//
// Every item the server sends (a report, a reporter's follow-up, a
// colleague's reply or team event) is kept exactly as it arrived: age
// ciphertext, sealed to the route's team, which the standard age tool opens
// with the member's key (ExportSealed writes them out). Replies written
// here are sealed the same way, to the reporter and the team, before they
// are stored. Nothing the server sent is ever resealed or rewritten.
//
// What the store writes of its own (the case's team events as signed, the
// pinned reply key, the per-case summaries that List reads, and the triage
// and chronology written before case records were shared) is sealed with
// XChaCha20-Poly1305 under the store's data key: random bytes made with the
// store and kept in it wrapped with age to the member's own recipient
// (localkey.go). Each record is bound to its bucket and key, so none can be
// moved to another case unnoticed.
//
// In the clear are only what the server knows too: case numbers, thread
// ids, routes, kinds of item and calendar days, plus the bookkeeping of
// sync (which replies and events wait to be sent, which items wait to be
// acknowledged, why an item was set aside). No server queue position is
// kept: the server shows none, and a store of before (schema 2) loses its
// own when it is opened (migrate.go). The member's words, the reporter's
// words, names, categories and urgencies are all sealed.
//
// # One case, one truth
//
// A case's number is the same on every computer of the team, written from
// its thread id (number.go). Its shared record (triage, assignment, who is
// handling it, notes, corrections, exports, reply-key decisions) is a log
// of team events (event.go): each signed by its author's Ed25519 key over
// the exact bytes of its content (vault.SignItem), kept here as signed,
// sealed to the route's team when sync sends it, and relayed by the server
// as an opaque item of the same kind as a reply. Every reviewer merges the
// events it holds the same way (merge.go), so reviewers holding the same
// events show the same case, whatever order they came in; changes made
// without sight of each other are shown as conflicts, and no note is lost.
// A reply or event is believed only when its signature checks and its
// author is in this computer's team file for the route (check.go).
//
// A member who joins a team later cannot open what was sealed before;
// such items wait, named in sync's result, until a colleague hands the
// case over: seals its items again to the team as it is now, inside signed
// handover events, each item still checked as if the server had sent it
// (handover.go).
//
// Each case has one report: the reviewer pins the reply key of the first
// it receives, sets aside any other, and refuses to reply while the case
// has been given another key until a lead resolves it (replykey.go).
//
// # Sync
//
// Sync pulls the items the server holds for this member, stores them,
// pushes the replies and team events written here and acknowledges what is
// stored, so the server can forget it. Every step is safe to cut short, by a lost
// connection or an interrupted command:
//
//   - a page of items is opened and checked, then stored in one
//     transaction; an item is acknowledged only after the commit that
//     stored it, and one already here is never stored twice;
//   - the pull always asks from the start of the member's queue, so no
//     saved position can make it skip an item (the server's page cursors
//     are opaque and used only between the pages of one sync);
//   - a reply carries an id the server deduplicates, and stays queued
//     until the server confirms it or its own copy comes back;
//   - acknowledgements are repeated until the server confirms them.
//
// An item that cannot be opened, or whose labels could not be ours, is set
// aside: kept unchanged, reported, and acknowledged, so one bad item never
// blocks the queue.
//
// # Tor
//
// An onion server is reached through tor on the member's computer: the
// proxy configured, or Tor Browser's, else a system tor's (dial.go). The
// staff onion admits only computers whose onion key a team file lists, so
// before the first request ConnectTor gives that tor the member's key,
// through its control port (in tor's memory only) or into the folder it
// reads keys from when it starts (tor.go); Sync does it if its caller has
// not. Failures are onion's errors, in plain words.
//
// # Errors
//
// Errors say what went wrong and no more; sentinel errors (ErrNoStore,
// ErrNoCase, ErrNotKnown, ...) are there for callers to branch on and to
// add, in their own words, what the user should do. The one exception is
// tor's: TorAdvice words what to do about them once, for the command line
// and the desk alike (advice.go).
package cases
