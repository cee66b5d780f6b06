package intake

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// The ACME side of HTTPS logs its progress as classes only: a certificate
// obtained, renewed or ready, and a failure's kind ("ca unreachable",
// "validation failed: connection"). It never logs a visitor's address or
// server name, and never the CA's own free-text detail.

// acmeCache is autocert's cache in DATA/acme. It notes each certificate
// stored, for the log, and refuses writes once the server has stopped:
// autocert's renewal timers cannot be stopped from outside.
type acmeCache struct {
	dir   autocert.DirCache
	watch *acmeWatch

	mu     sync.Mutex
	closed bool
}

var errCacheClosed = errors.New("certificate cache closed")

func (c *acmeCache) Get(ctx context.Context, key string) ([]byte, error) {
	return c.dir.Get(ctx, key)
}

func (c *acmeCache) Put(ctx context.Context, key string, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errCacheClosed
	}
	if err := c.dir.Put(ctx, key, data); err != nil {
		return err
	}
	if certKey(key) {
		c.watch.stored(key, leafOf(data))
	}
	return nil
}

func (c *acmeCache) Delete(ctx context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errCacheClosed
	}
	return c.dir.Delete(ctx, key)
}

func (c *acmeCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}

// certKey reports whether an autocert cache key holds a domain's
// certificate ("name" or "name+rsa"), rather than the account key or a
// challenge token.
func certKey(key string) bool {
	_, suffix, found := strings.Cut(key, "+")
	return !found || suffix == "rsa"
}

// acmeWatch logs certificates as they are obtained and renewed, obtains
// them when the server starts rather than when the first visitor arrives,
// and warns when a renewal is overdue.
type acmeWatch struct {
	log zerolog.Logger

	mu        sync.Mutex
	have      map[string]bool      // cache keys with a certificate stored by us
	lastClass string               // the last failure seen talking to the CA
	logged    map[string]time.Time // failure lines, to log each once an hour
}

// stored is called when autocert has put a new certificate in the cache.
func (w *acmeWatch) stored(key string, leaf *x509.Certificate) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.have == nil {
		w.have = map[string]bool{}
	}
	msg := "certificate obtained"
	if w.have[key] {
		msg = "certificate renewed"
	}
	w.have[key] = true
	w.lastClass = ""
	ev := w.log.Info().Str("domain", strings.TrimSuffix(key, "+rsa"))
	if strings.HasSuffix(key, "+rsa") {
		ev = ev.Bool("rsa", true)
	}
	if leaf != nil {
		ev = ev.Str("expires", leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	ev.Msg(msg)
}

// noted records the class of a failure seen talking to the CA.
func (w *acmeWatch) noted(class string) {
	w.mu.Lock()
	w.lastClass = class
	w.mu.Unlock()
}

// failed logs a failure for a configured domain, once an hour at most for
// the same message and class: a failing request is retried on every
// handshake.
func (w *acmeWatch) failed(domain, msg, class string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lastClass = class
	if w.logged == nil {
		w.logged = map[string]time.Time{}
	}
	k := domain + "\x00" + msg + "\x00" + class
	if t, ok := w.logged[k]; ok && time.Since(t) < time.Hour {
		return
	}
	w.logged[k] = time.Now()
	w.log.Error().Str("domain", domain).Str("class", class).Msg(msg)
}

func (w *acmeWatch) last() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lastClass == "" {
		return "unknown"
	}
	return w.lastClass
}

// run obtains (or loads) a certificate for each domain, retrying failures
// after a minute, then two, up to an hour; and checks every hour that
// renewals are happening.
func (w *acmeWatch) run(ctx context.Context, m *autocert.Manager, cache autocert.Cache, domains []string) {
	pending := domains
	wait := time.Minute
	for {
		var still []string
		for _, d := range pending {
			// An ECDSA certificate, as nearly every client takes.
			hello := &tls.ClientHelloInfo{ServerName: d, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}
			cert, err := m.GetCertificate(hello)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				w.failed(d, "certificate request failed", acmeClass(err))
				still = append(still, d)
				continue
			}
			w.log.Info().Str("domain", d).Str("expires", cert.Leaf.NotAfter.UTC().Format(time.DateOnly)).Msg("certificate ready")
		}
		pending = still
		w.checkRenewals(ctx, cache, domains, time.Now())
		next := time.Hour
		if len(pending) > 0 {
			next, wait = wait, min(2*wait, time.Hour)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(next):
		}
	}
}

// checkRenewals logs an error for each cached certificate that autocert
// should have renewed a while ago: it renews when a third of the lifetime
// (at most 30 days) is left, so half of that left means renewals are
// failing.
func (w *acmeWatch) checkRenewals(ctx context.Context, cache autocert.Cache, domains []string, now time.Time) {
	for _, d := range domains {
		data, err := cache.Get(ctx, d)
		if err != nil {
			continue
		}
		leaf := leafOf(data)
		if leaf == nil {
			continue
		}
		due := min(leaf.NotAfter.Sub(leaf.NotBefore)/3, 30*24*time.Hour)
		if left := leaf.NotAfter.Sub(now); left < due/2 {
			w.log.Error().Str("domain", d).Str("class", w.last()).
				Str("expires", leaf.NotAfter.UTC().Format(time.DateOnly)).Msg("certificate renewal failed")
		}
	}
}

// classifyingTransport notes the class of each failure talking to the CA,
// so that a failed renewal, which autocert keeps to itself, can be
// explained in the log.
type classifyingTransport struct {
	base  http.RoundTripper
	watch *acmeWatch
}

// maxProblem bounds the error document read from the CA.
const maxProblem = 64 << 10

func (t *classifyingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		t.watch.noted(acmeClass(err))
		return nil, err
	}
	if resp.StatusCode < 400 {
		return resp, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProblem))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		t.watch.noted("ca unreachable")
		return resp, nil
	}
	var problem struct {
		Type string `json:"type"`
	}
	json.Unmarshal(body, &problem)
	name := problemName(problem.Type)
	switch {
	case strings.EqualFold(name, "badNonce"):
		// The client retries these itself.
	case problem.Type != "":
		t.watch.noted("ca refused: " + name)
	default:
		t.watch.noted("ca answered " + strconv.Itoa(resp.StatusCode))
	}
	return resp, nil
}

// acmeClass names the kind of an ACME failure without its details, which
// can quote URLs, names and the CA's own words.
func acmeClass(err error) string {
	var authz *acme.AuthorizationError
	var order *acme.OrderError
	var problem *acme.Error
	var unknownCA x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	var dns *net.DNSError
	var op *net.OpError
	var netErr net.Error
	switch {
	case errors.As(err, &authz):
		for _, e := range authz.Errors {
			if errors.As(e, &problem) {
				return "validation failed: " + problemName(problem.ProblemType)
			}
		}
		return "validation failed"
	case errors.As(err, &order):
		if order.Problem != nil {
			return "order failed: " + problemName(order.Problem.ProblemType)
		}
		return "order failed"
	case errors.As(err, &problem):
		return "ca refused: " + problemName(problem.ProblemType)
	case errors.As(err, &unknownCA), errors.As(err, &invalid), errors.As(err, &hostname), errors.As(err, &verify):
		return "ca certificate not trusted (see acme_ca_file)"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "ca timed out"
	case errors.As(err, &dns):
		return "ca name not found"
	case errors.As(err, &op):
		return "ca unreachable"
	}
	return "other"
}

// problemName is the last part of an ACME problem type, such as
// "rateLimited" for urn:ietf:params:acme:error:rateLimited.
func problemName(typ string) string {
	name := typ[strings.LastIndex(typ, ":")+1:]
	if name == "" || len(name) > 40 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return "other"
	}
	return name
}
