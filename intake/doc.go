// Package intake is Hearken's server: the public site where reporters send
// concerns and read the team's replies, the staff channel the team's
// reviewer tool syncs from, and the intake command line that runs both
// (cmd/intake is a thin main around [Main]).
//
// The package exports only Main, and [NewStaffHandler] for the reviewer's
// tests, which run a real staff channel. Everything else is its own.
//
// # The public site
//
// A school's students and staff use it, on phones and in Tor Browser at its
// "Safest" level: no JavaScript, no cookies, no third-party requests, the
// language taken from the path and never from Accept-Language.
//
//   - server.go: the server type, an http.Handler, and the limits on
//     submissions (body size, upload memory across requests, slow uploads,
//     queueing) with the reasons for each figure.
//   - routes.go: the routes, with gorilla/mux. Every page is registered once,
//     for the unprefixed paths (the default language) and under /{lang} for
//     the enabled languages; anything else gets the 404 page, and a method a
//     path does not take the 405 page with Allow.
//   - pages.go: the handlers: landing, report form and submission, checking
//     a receipt, the thread with the team's replies, follow-ups, safety.
//     A reporter's own words are never shown back.
//   - form.go: submissions parsed in memory only, never spilled to disk,
//     each field through its own limit. Attachments are checked and cleaned
//     by package internal/attach, and renamed attachment-N.
//   - render.go, i18n.go: the embedded templates/, static/style.css and
//     translations in locales/; the calm, translated error pages.
//   - middleware.go: the security headers every response carries (a CSP
//     with no script source, no-referrer, no-store, nosniff, no framing),
//     the body cap, the panic guard and the request log.
//   - limits.go: the shared upload-memory and submission-slot budgets, the
//     rate limiter and the metered request body.
//
// Nothing that could identify a reporter is logged: no address, agent,
// referrer, cookie, URL or receipt. Only failures are logged, naming the
// route template (like "/{lang}/report") and the status, because a line per
// request would record when each report arrived. A receipt is shown only
// after its report is durably stored.
//
// # HTTPS on the clear web
//
// With the config's [tls] section the public listener serves HTTPS:
// TLS 1.2 and 1.3 with forward-secret AEAD suites, HTTP/1.1, HSTS.
//
//   - tlsconfig.go: the [tls] section and its checks.
//   - https.go: the TLS config, certificates from the school's own files
//     (read again when they change), the plain-HTTP port's redirect, and
//     the filter that drops net/http's TLS handshake errors, which name
//     the client's address.
//   - acme.go: certificates from an ACME CA with autocert, cached in
//     DATA/acme, obtained at start and renewed ahead of expiry; progress
//     logged as classes only, never a visitor's address or server name.
//     Names not in [tls] domains are refused before autocert sees them.
//
// # The staff channel
//
// staff.go serves the team's reviewer tools: fetch sealed items, push
// sealed replies, acknowledge what they stored. Every request is signed
// and verified with package staff; every refusal is one generic 401. It
// runs on its own listener (a unix socket of mode 0600, or loopback), never
// beside the public site.
//
// teams.go holds the teams the site seals to and the staff channel admits,
// shared by both and replaced whole when serve reads the team files again
// on SIGHUP: every file is checked first, a bad one changes nothing, and a
// report seals to the teams of the moment its request arrived.
//
// # The command line
//
// cli.go holds Main and the commands: init (init.go and the commented
// example.toml it writes), serve, check, alert-test and backup. Commands return
// errors; Main prints them, adds a hint where the person at the terminal
// can do something about it, and exits with status 1, or 2 for a mistake in
// the command line.
//
//   - config.go: the TOML config and its checks, which report every problem
//     at once; demo.go: the throwaway team of serve --demo.
//   - alerts.go: [alerts], [team_hours] and the alerter serve runs (package
//     internal/alert): after a report or follow-up is stored, its route's
//     recipients get a fixed-text alert, at once if the reporter said
//     someone is in danger now. The danger answer goes from the form to the
//     alerter and is stored nowhere outside the sealed report.
//   - serve.go: the listeners, every net/http timeout, a graceful shutdown,
//     and the daily maintenance: retention, purging acknowledged items,
//     compaction and verified backups.
//   - apply.go: check --apply, which reloads the running server and tor
//     through systemctl after a team file changes, or says how.
package intake
