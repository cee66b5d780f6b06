// Package alert tells a school's safeguarding team that something is waiting
// for them on Hearken, and says nothing else.
//
// The intake server calls [Dispatcher.Activity] when a report or follow-up
// arrives on a route and [Dispatcher.Danger] when a reporter says someone may
// be in danger now. The dispatcher knows each route's recipients (mail
// addresses and an optional chat webhook) and sends them one of three fixed
// messages:
//
//   - activity: "There is new activity on Hearken for <school>. Open reviewer
//     to read it." At most one per batching window per set of recipients,
//     sent at a moment drawn uniformly inside a window, independently of
//     when anything arrived, so the send time does not mark an arrival.
//   - danger: "A report says someone may be in danger now. Open reviewer
//     now." Sent at once, never batched. Within a minute of the last danger
//     alert to the same recipients, the next waits for that minute to end,
//     so a flood cannot become a flood of mail.
//   - test: sent by [Dispatcher.SendTest] for `intake alert-test`.
//
// Every alert of a kind to the same recipients is the same bytes but for its
// Date and Message-ID headers, and alerts of every kind have the same length,
// so neither the text nor the size of a mail carries a count, a route, a
// time or a word of a report. Routes that share recipients share one batched
// alert; a route with recipients of its own alerts only them.
//
// What is waiting to be sent lives in memory only. Failed deliveries are
// retried with exponential backoff and jitter; on shutdown an alert still
// waiting is lost, and the log says so in one line. Failures are logged as a
// class ("smtp_connect", "smtp_auth", "webhook_status", ...) with at most a
// numeric status code: never the server's words, which can echo what was
// sent, and never an address.
//
// Mail goes over smtps:// (implicit TLS) or smtp:// with STARTTLS. Plain
// SMTP is allowed only to a loopback server: the configured host must be
// "localhost" or a loopback IP literal, and the address actually connected
// to must be a loopback address too. Certificates are always verified.
package alert
