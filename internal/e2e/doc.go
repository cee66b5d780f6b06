// Package e2e holds Hearken's end-to-end tests: the intake server and the
// team's reviewer tool run as real programs and talk over real sockets,
// through the whole loop a school would use.
package e2e
