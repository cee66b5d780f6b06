// Package onion is what a program needs to reach a client-authorized onion
// service through the tor already running on its computer (Tor Browser's,
// or a system tor service).
//
// It has four parts, each in its own file:
//
//   - key.go: onion client-authorization keys (x25519). A ClientKey is the
//     secret half; its ClientPublicKey's text is what tor reads from the
//     service's authorized_clients/<name>.auth file, and AuthPrivate gives
//     the line for a client's ClientOnionAuthDir/<name>.auth_private file.
//     address.go checks onion addresses, checksum included.
//   - control.go: a small client for tor's control port: connect over TCP
//     or a unix socket, authenticate (none, password, SAFECOOKIE), GETINFO,
//     ONION_CLIENT_AUTH_ADD, and events. Replies are read through
//     size limits, and secrets never reach an error message.
//   - proxy.go: finding tor's SOCKS proxy: the one configured, else Tor
//     Browser's (127.0.0.1:9150), else a system tor's (127.0.0.1:9050).
//   - socks.go: connecting through that proxy (RFC 1928) and turning tor's
//     replies, its extended onion-service errors (0xF0-0xF7) above all, into
//     errors in plain words: tor is not running, this computer's onion key
//     is missing or refused, the onion service could not be reached.
//
// Tor sends the extended errors only on a SocksPort with the ExtendedErrors
// flag. Tor Browser sets it on its port ("ExtendedErrors IPv6Traffic
// PreferIPv6 KeepAliveIsolateSOCKSAuth"); Debian's system tor (SocksPort
// 9050) does not, so there every onion failure reads as "could not be
// reached", with the possible causes named. A program that can reach the
// control port adds its key there first, which rules out a missing key.
//
// Tor Browser's control port is closed to other programs (it uses a random
// password per launch), so a key for Tor Browser goes into its
// ClientOnionAuthDir (TorBrowser/Data/Tor/onion-auth) and Tor Browser is
// restarted, or is typed into Tor Browser's own prompt for the key.
package onion
