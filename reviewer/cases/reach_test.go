package cases

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/hearken-project/hearken/internal/onion"
)

// timeoutErr is a net.Error that timed out.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// A request that got no answer is told in plain words, naming the server
// as the member gave it, and keeps its cause for callers that branch on
// it.
func TestReachErrorWords(t *testing.T) {
	const server = "unix:/srv/hearken/staff.sock"
	dial := func(err error) error {
		return &url.Error{Op: "Get", URL: "http://hearken/staff/items", Err: &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", err)}}
	}
	for _, tc := range []struct {
		err  error
		says string
	}{
		{dial(syscall.ECONNREFUSED), "could not reach the server at " + server + ": connection refused (is the server running, and is the address right?)"},
		{dial(syscall.ENOENT), "there is no such socket (is the server running, and is the path right?)"},
		{dial(syscall.EACCES), ": permission denied"},
		{&url.Error{Op: "Get", URL: "http://x", Err: &net.DNSError{Name: "hearken.school.example", Err: "no such host"}}, "the host name could not be found"},
		{&url.Error{Op: "Get", URL: "http://x", Err: io.ErrUnexpectedEOF}, "was cut (nothing was lost; run sync again)"},
		{dial(syscall.ECONNRESET), "was cut"},
		{&url.Error{Op: "Get", URL: "http://x", Err: timeoutErr{}}, "no answer in time"},
		{fmt.Errorf("read: %w", os.ErrDeadlineExceeded), "no answer in time"},
		{&url.Error{Op: "Get", URL: "http://x", Err: &onion.DialError{Reply: 0xF1, Err: onion.ErrNoKey}}, ": " + onion.ErrNoKey.Error()},
		{dial(errors.New("something odd")), "could not reach the server at " + server + ": something odd"},
	} {
		got := reachError(server, tc.err)
		if !strings.Contains(got.Error(), tc.says) {
			t.Errorf("reachError(%v) = %q, want it to say %q", tc.err, got, tc.says)
		}
		if strings.Contains(got.Error(), "http://") || strings.Contains(got.Error(), "dial unix") {
			t.Errorf("Go's prefixes leaked into %q", got)
		}
		if !errors.Is(got, errors.Unwrap(got)) || errors.Unwrap(got) == nil {
			t.Errorf("%q does not keep its cause", got)
		}
	}
	if got := reachError(server, &url.Error{Op: "Get", URL: "http://x", Err: context.Canceled}); !errors.Is(got, context.Canceled) || !strings.HasPrefix(got.Error(), "interrupted") {
		t.Errorf("an interrupted sync: %v", got)
	}
	var torErr *onion.DialError
	if !errors.As(reachError(server, &onion.DialError{Err: onion.ErrTorNotRunning}), &torErr) {
		t.Error("tor's error is not kept for the command line's hint")
	}
}

// Sizes read as people say them.
func TestSizeText(t *testing.T) {
	for size, want := range map[int]string{
		0: "0 bytes", 1: "1 byte", 2: "2 bytes", 999: "999 bytes", 1000: "1 KB", 1499: "1 KB", 1500: "2 KB",
		999499: "999 KB", 999500: "1.0 MB", 1500000: "1.5 MB", 10 << 20: "10.5 MB",
	} {
		if got := (AttachmentInfo{Size: size}).SizeText(); got != want {
			t.Errorf("SizeText(%d) = %q, want %q", size, got, want)
		}
	}
}
