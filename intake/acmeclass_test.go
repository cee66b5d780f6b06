package intake

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/acme"

	"github.com/hearken-project/hearken/internal/testkit"
)

// The CA's own words (a problem's detail, a URL, a name a visitor sent in
// a handshake) never reach the log: a failure is logged as a class.
const acmeCanary = "canary-7f3a.example.org"

func TestACMEFailureClasses(t *testing.T) {
	rateLimited := &acme.Error{StatusCode: 429, ProblemType: "urn:ietf:params:acme:error:rateLimited", Detail: "too many for " + acmeCanary}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&acme.AuthorizationError{URI: "https://" + acmeCanary, Errors: []error{rateLimited}}, "validation failed: rateLimited"},
		{&acme.AuthorizationError{URI: "https://" + acmeCanary}, "validation failed"},
		{&acme.OrderError{OrderURL: "https://" + acmeCanary, Status: "invalid", Problem: &acme.Error{ProblemType: "urn:ietf:params:acme:error:unauthorized"}}, "order failed: unauthorized"},
		{&acme.OrderError{OrderURL: "https://" + acmeCanary}, "order failed"},
		{fmt.Errorf("get %s: %w", acmeCanary, rateLimited), "ca refused: rateLimited"},
		{&acme.Error{ProblemType: "urn:x:" + acmeCanary, Detail: acmeCanary}, "ca refused: other"},
		{x509.UnknownAuthorityError{}, "ca certificate not trusted (see acme_ca_file)"},
		{x509.HostnameError{Host: acmeCanary}, "ca certificate not trusted (see acme_ca_file)"},
		{fmt.Errorf("post %s: %w", acmeCanary, context.DeadlineExceeded), "ca timed out"},
		{&net.DNSError{Name: acmeCanary, Err: "no such host", IsNotFound: true}, "ca name not found"},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused to " + acmeCanary)}, "ca unreachable"},
		{errors.New("something else about " + acmeCanary), "other"},
	} {
		if got := acmeClass(tc.err); got != tc.want {
			t.Errorf("acmeClass(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	for typ, want := range map[string]string{
		"urn:ietf:params:acme:error:rateLimited": "rateLimited",
		"badNonce":                               "badNonce",
		"":                                       "other",
		"urn:ietf:params:acme:error:":            "other",
		"urn:x:" + strings.Repeat("a", 41):       "other",
		"urn:x:rate limited; see https://x":      "other",
		"urn:x:<script>":                         "other",
	} {
		if got := problemName(typ); got != want {
			t.Errorf("problemName(%q) = %q, want %q", typ, got, want)
		}
	}
}

// roundTripFunc is an http.RoundTripper from a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The transport between autocert and the CA notes each failure's class,
// and leaves the CA's answer whole for the ACME client to read.
func TestACMETransportNotesClasses(t *testing.T) {
	w := &acmeWatch{log: zerolog.Nop()}
	answer := func(status int, body string) *classifyingTransport {
		return &classifyingTransport{watch: w, base: roundTripFunc(func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(body))}, nil
		})}
	}
	req, _ := http.NewRequest(http.MethodPost, "https://ca.test/new-order", nil)
	rateLimited := `{"type": "urn:ietf:params:acme:error:rateLimited", "detail": "too many certificates for ` + acmeCanary + `"}`
	for _, tc := range []struct {
		rt   *classifyingTransport
		want string
	}{
		{answer(200, `{"status": "valid"}`), "unknown"},
		{answer(429, rateLimited), "ca refused: rateLimited"},
		{answer(400, `{"type": "urn:ietf:params:acme:error:badNonce"}`), "ca refused: rateLimited"}, // retried by the client: not a class
		{answer(503, "<html>"+acmeCanary+"</html>"), "ca answered 503"},
	} {
		resp, err := tc.rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if got := w.last(); got != tc.want {
			t.Errorf("after a %d: class %q, want %q", resp.StatusCode, got, tc.want)
		}
		if resp.StatusCode == 429 && string(body) != rateLimited {
			t.Errorf("the CA's answer did not reach the client whole: %q", body)
		}
	}
	failing := &classifyingTransport{watch: w, base: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, &net.DNSError{Name: acmeCanary, IsNotFound: true}
	})}
	if _, err := failing.RoundTrip(req); err == nil || w.last() != "ca name not found" {
		t.Errorf("a failed request: %v, class %q", err, w.last())
	}
}

// A failing certificate request is logged with its domain and class, not
// the error's words, and once an hour, not on every handshake.
func TestACMEFailureLoggedOnce(t *testing.T) {
	logs := &testkit.Buffer{}
	w := &acmeWatch{log: zerolog.New(logs)}
	class := acmeClass(&acme.Error{ProblemType: "urn:ietf:params:acme:error:rateLimited", Detail: acmeCanary})
	for range 3 {
		w.failed("school.example", "certificate request failed", class)
	}
	w.failed("school.example", "certificate request failed", "ca timed out")
	out := logs.String()
	if n := strings.Count(out, "certificate request failed"); n != 2 {
		t.Errorf("%d lines for two distinct failures:\n%s", n, out)
	}
	if !strings.Contains(out, `"class":"ca refused: rateLimited"`) || !strings.Contains(out, `"domain":"school.example"`) {
		t.Errorf("the line does not name the domain and class:\n%s", out)
	}
	if strings.Contains(out, acmeCanary) {
		t.Errorf("the CA's words reached the log:\n%s", out)
	}
	if w.last() != "ca timed out" {
		t.Errorf("last class %q", w.last())
	}
}
