package intake

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/acme/autocert"

	"github.com/hearken-project/hearken/internal/testkit"
)

const testDomain = "report.hearken.test"

// acmeConfig writes a config whose [tls] section gets certificates from p.
func acmeConfig(t *testing.T, dir string, p *pebble) string {
	t.Helper()
	onion := strings.Repeat("c", 56) + ".onion"
	return writeConfig(t, dir, fmt.Sprintf(`onion_address = %q

[tls]
domains = [%q]
email = "it@hearken.test"
acme_directory = %q
acme_ca_file = %q
`, onion, testDomain, p.directory, p.caFile))
}

// waitForCert waits until the server presents a certificate for name that
// verifies against roots and, if not nil, differs from old.
func waitForCert(t *testing.T, addr, name string, roots *x509.CertPool, old *x509.Certificate) *x509.Certificate {
	t.Helper()
	var leaf *x509.Certificate
	var last error
	err := testkit.WaitFor(4*testkit.Patience, func() bool {
		l, err := servedLeaf(addr, name, roots)
		if err != nil {
			last = err
			return false
		}
		if old != nil && l.SerialNumber.Cmp(old.SerialNumber) == 0 {
			return false
		}
		leaf = l
		return true
	})
	if err != nil {
		t.Fatalf("no new certificate served: %v (last: %v)", err, last)
	}
	return leaf
}

// TestHTTPSWithACME obtains a certificate from a real ACME CA and serves
// the site with it: HSTS and Onion-Location on every page, TLS 1.2 and 1.3
// only, the plain-HTTP port redirecting, hostile handshakes leaving no
// address or server name in any log, and the certificate kept for the next
// start.
func TestHTTPSWithACME(t *testing.T) {
	t.Parallel()
	p := startPebble(t, 90*24*time.Hour)
	dir := t.TempDir()
	cfgPath := acmeConfig(t, dir, p)
	dataDir := filepath.Join(dir, "data")
	ls := startTLSServer(t, cfgPath, dataDir)

	first := waitForCert(t, ls.addr, testDomain, p.roots, nil)
	client := httpsClient(ls.addr, p.roots)
	resp, err := client.Get("https://" + testDomain + "/en/safety")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Staying safe") {
		t.Fatalf("safety page over HTTPS: %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(string(body), "can see that someone visited this site") || !strings.Contains(string(body), strings.Repeat("c", 56)+".onion</code>") {
		t.Errorf("the safety page on the clear web does not say who can see the visit, or lacks the onion address:\n%s", body)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != hstsHeader {
		t.Errorf("Strict-Transport-Security = %q", got)
	}
	if got := resp.Header.Get("Onion-Location"); !strings.HasPrefix(got, "http://"+strings.Repeat("c", 56)+".onion/") {
		t.Errorf("Onion-Location = %q", got)
	}
	if resp.Proto != "HTTP/1.1" || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("protocol %s, TLS %+v", resp.Proto, resp.TLS)
	}
	fi, err := os.Stat(filepath.Join(dataDir, acmeDir))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("certificate cache: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, acmeDir, testDomain)); err != nil {
		t.Errorf("certificate not cached: %v", err)
	}
	if err := testkit.WaitFor(testkit.Patience, func() bool {
		return strings.Contains(ls.logs.String(), `"message":"certificate ready"`)
	}); err != nil || !strings.Contains(ls.logs.String(), `"message":"certificate obtained"`) {
		t.Errorf("progress not logged:\n%s", ls.logs)
	}

	// TLS 1.2 with a modern suite and TLS 1.3 are accepted; TLS 1.1, and
	// TLS 1.2 offering only CBC suites, are refused.
	for _, c := range []struct {
		name   string
		conf   *tls.Config
		accept bool
	}{
		{"TLS 1.3", &tls.Config{MinVersion: tls.VersionTLS13}, true},
		{"TLS 1.2", &tls.Config{MaxVersion: tls.VersionTLS12}, true},
		{"TLS 1.1", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, false},
		{"TLS 1.2 CBC only", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}, false},
	} {
		c.conf.ServerName, c.conf.RootCAs = testDomain, p.roots
		conn, err := tlsDial(ls.addr, c.conf)
		if err == nil {
			conn.Close()
		}
		if (err == nil) != c.accept {
			t.Errorf("%s: accepted %v, want %v (%v)", c.name, err == nil, c.accept, err)
		}
	}

	// The plain-HTTP port redirects to a configured name and the HTTPS
	// port, keeping only the path of one of the site's own pages.
	httpsPort := ls.addr[strings.LastIndex(ls.addr, ":")+1:]
	plain := httpsClient(ls.httpAddr, nil)
	for _, c := range []struct{ method, host, path, want string }{
		{"GET", testDomain, "/fr/safety", "/fr/safety"},
		{"GET", testDomain, "/report?from=poster", "/report"},
		{"HEAD", testDomain, "/", "/"},
		{"POST", testDomain, "/en/report", "/en/report"},
		{"GET", "canary-host-3390.example", "/en/check", "/en/check"},
		{"GET", testDomain, "/canary-path-8812/%0d%0aSet-Cookie:%20x", "/"},
		{"GET", testDomain, "/xx/report", "/"},
	} {
		req, _ := http.NewRequest(c.method, "http://"+ls.httpAddr+c.path, nil)
		req.Host = c.host
		resp, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		want := "https://" + testDomain + ":" + httpsPort + c.want
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
			t.Errorf("%s %s (Host %s) = %d %q, want 301 %q", c.method, c.path, c.host, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	// ACME challenges are answered there, for configured names only, and
	// never redirected.
	for _, c := range []struct {
		host string
		want int
	}{{testDomain, http.StatusNotFound}, {"canary-host-3390.example", http.StatusForbidden}} {
		req, _ := http.NewRequest("GET", "http://"+ls.httpAddr+"/.well-known/acme-challenge/unknown-token", nil)
		req.Host = c.host
		resp, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("challenge for %s = %d, want %d", c.host, resp.StatusCode, c.want)
		}
	}

	// Hostile and broken handshakes.
	const canarySNI = "canary-sni-5521.example"
	raw := func(data string) {
		conn, err := (&net.Dialer{LocalAddr: canaryAddr}).Dial("tcp", ls.addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, data)
		conn.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, conn)
		conn.Close()
	}
	raw("GET /canary-path-8812 HTTP/1.1\r\nHost: canary-host-3390.example\r\n\r\n")
	raw("\x16\x03\x01\x00\x05garbage-canary-sni-5521.example\x00\x00")
	for _, conf := range []*tls.Config{
		{ServerName: canarySNI, RootCAs: p.roots},
		{ServerName: canarySNI, NextProtos: []string{"acme-tls/1"}, InsecureSkipVerify: true},
		{ServerName: "", InsecureSkipVerify: true},
		{ServerName: canarySNI, MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10},
	} {
		if conn, err := tlsDial(ls.addr, conf); err == nil {
			conn.Close()
			t.Errorf("handshake for %q succeeded", conf.ServerName)
		}
	}
	// The server still serves.
	if _, err := servedLeaf(ls.addr, testDomain, p.roots); err != nil {
		t.Fatal(err)
	}
	if err := ls.stop(); err != nil {
		t.Fatal(err)
	}
	checkNoVisitorTraces(t, ls, canarySNI, "canary-host-3390", "canary-path-8812")

	// A restart serves the cached certificate: nothing new is asked of the CA.
	again := startTLSServer(t, cfgPath, dataDir)
	leaf, err := servedLeaf(again.addr, testDomain, p.roots)
	if err != nil {
		t.Fatal(err)
	}
	if leaf.SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Errorf("restart obtained a new certificate instead of using the cache")
	}
	if err := testkit.WaitFor(testkit.Patience, func() bool {
		return strings.Contains(again.logs.String(), `"message":"certificate ready"`)
	}); err != nil || strings.Contains(again.logs.String(), "certificate obtained") {
		t.Errorf("restart log:\n%s", again.logs)
	}
}

// checkNoVisitorTraces searches the server's log, what net/http wanted to
// log, and every file name and file under the data directory for the
// clients' address and the canaries.
func checkNoVisitorTraces(t *testing.T, ls *tlsLive, canaries ...string) {
	t.Helper()
	logs := ls.logs.String() + ls.errLogs.String()
	if !strings.Contains(logs, `"message":"serving"`) {
		t.Fatalf("log capture is not working:\n%s", logs)
	}
	// The server's own listening addresses are in its lifecycle lines;
	// no other address may be.
	own := strings.NewReplacer(ls.addr, "SERVER", ls.httpAddr, "SERVER").Replace(logs)
	for _, f := range testkit.FindCanaries("the log", own, append([]string{"127.0.0.1", canaryAddr.IP.String()}, canaries...)) {
		t.Errorf("%s:\n%s", f, logs)
	}
	found, files, err := testkit.FindCanariesInDir(ls.dataDir, append([]string{canaryAddr.IP.String()}, canaries...))
	if err != nil || files == 0 {
		t.Fatalf("data directory: %v, %d files", err, files)
	}
	for _, f := range found {
		t.Error(f)
	}
}

// TestHTTPSRenewal serves certificates that live a few seconds: each is
// replaced before it expires, with nobody restarting anything.
func TestHTTPSRenewal(t *testing.T) {
	t.Parallel()
	p := startPebble(t, 12*time.Second)
	dir := t.TempDir()
	ls := startTLSServer(t, acmeConfig(t, dir, p), filepath.Join(dir, "data"))
	first := waitForCert(t, ls.addr, testDomain, p.roots, nil)
	second := waitForCert(t, ls.addr, testDomain, p.roots, first)
	if !second.NotAfter.After(first.NotAfter) {
		t.Errorf("renewed certificate expires %v, the first %v", second.NotAfter, first.NotAfter)
	}
	if err := testkit.WaitFor(testkit.Patience, func() bool {
		return strings.Contains(ls.logs.String(), `"message":"certificate renewed"`)
	}); err != nil {
		t.Errorf("renewal not logged:\n%s", ls.logs)
	}
}

// TestHTTPSOwnCertificate serves a school's own certificate files and
// picks up a renewed pair without a restart; a pair that does not match
// leaves the last good one serving.
func TestHTTPSOwnCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem")
	certA, keyA := selfSigned(t, []string{testDomain}, nil, time.Now().Add(90*24*time.Hour))
	writeTestFile(t, certFile, certA)
	writeTestFile(t, keyFile, keyA)
	cfgPath := writeConfig(t, dir, fmt.Sprintf("[tls]\ndomains = [%q]\ncert_file = %q\nkey_file = \"privkey.pem\"\n", testDomain, certFile))
	ls := startTLSServer(t, cfgPath, filepath.Join(dir, "data"))

	roots := func(certPEM []byte) *x509.CertPool {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(certPEM)
		return pool
	}
	a, err := servedLeaf(ls.addr, testDomain, roots(certA))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := httpsClient(ls.addr, roots(certA)).Get("https://" + testDomain + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Strict-Transport-Security") != hstsHeader {
		t.Errorf("no HSTS with the school's own certificate")
	}

	// A new certificate written before its key: the old pair keeps serving.
	certB, keyB := selfSigned(t, []string{testDomain}, nil, time.Now().Add(90*24*time.Hour))
	writeTestFile(t, certFile+".new", certB)
	if err := os.Rename(certFile+".new", certFile); err != nil {
		t.Fatal(err)
	}
	if l, err := servedLeaf(ls.addr, testDomain, roots(certA)); err != nil || l.SerialNumber.Cmp(a.SerialNumber) != 0 {
		t.Fatalf("half-renewed pair: %v", err)
	}
	if !strings.Contains(ls.logs.String(), "certificate reload failed") {
		t.Errorf("a pair that does not load was not logged:\n%s", ls.logs)
	}
	writeTestFile(t, keyFile+".new", keyB)
	if err := os.Rename(keyFile+".new", keyFile); err != nil {
		t.Fatal(err)
	}
	waitForCert(t, ls.addr, testDomain, roots(certB), a)
	if !strings.Contains(ls.logs.String(), `"message":"certificate reloaded"`) {
		t.Errorf("reload not logged:\n%s", ls.logs)
	}

	// The onion service's socket serves the same site in plain HTTP, with
	// no HSTS and no clear-web notice.
	onion := testkit.UnixClient(ls.onionSock)
	resp, err = onion.Get("http://" + strings.Repeat("f", 56) + ".onion/en/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") != "" || strings.Contains(string(body), `class="clearweb"`) ||
		!strings.Contains(string(body), "Tell someone safely") {
		t.Errorf("onion socket: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}

	// Without ACME the plain-HTTP port only redirects.
	req, _ := http.NewRequest("GET", "http://"+ls.httpAddr+"/.well-known/acme-challenge/x", nil)
	req.Host = testDomain
	resp, err = httpsClient(ls.httpAddr, nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently {
		t.Errorf("challenge path without ACME = %d", resp.StatusCode)
	}
}

// An overdue renewal is logged with the class of the last failure, and
// nothing else.
func TestRenewalOverdue(t *testing.T) {
	logs := &testkit.Buffer{}
	w := &acmeWatch{log: zerolog.New(logs)}
	cache := memCache{}
	certPEM, keyPEM := selfSigned(t, []string{testDomain}, nil, time.Now().Add(5*24*time.Hour))
	cache[testDomain] = append(keyPEM, certPEM...)
	w.checkRenewals(t.Context(), cache, []string{testDomain}, time.Now())
	if logs.String() != "" {
		t.Fatalf("a certificate with days to spare was reported:\n%s", logs)
	}
	w.noted(acmeClass(&net.OpError{Op: "dial", Err: fmt.Errorf("connection refused from 203.0.113.9")}))
	w.checkRenewals(t.Context(), cache, []string{testDomain}, time.Now().Add(4*24*time.Hour+12*time.Hour))
	got := logs.String()
	if !strings.Contains(got, `"message":"certificate renewal failed"`) || !strings.Contains(got, `"class":"ca unreachable"`) || strings.Contains(got, "203.0.113.9") {
		t.Errorf("log:\n%s", got)
	}
}

type memCache map[string][]byte

func (m memCache) Get(_ context.Context, k string) ([]byte, error) {
	if v, ok := m[k]; ok {
		return v, nil
	}
	return nil, autocert.ErrCacheMiss
}
func (m memCache) Put(_ context.Context, k string, v []byte) error { m[k] = v; return nil }
func (m memCache) Delete(_ context.Context, k string) error        { delete(m, k); return nil }

// intake check reads the school's own certificate and says what is wrong
// with it, without quoting the files.
func TestOwnCertificateProblems(t *testing.T) {
	dir := t.TempDir()
	good, goodKey := selfSigned(t, []string{testDomain}, nil, time.Now().Add(24*time.Hour))
	_, otherKey := selfSigned(t, []string{testDomain}, nil, time.Now().Add(24*time.Hour))
	expired, expiredKey := selfSigned(t, []string{testDomain}, nil, time.Now().Add(-time.Minute))
	for _, c := range []struct {
		name      string
		cert, key []byte
		domain    string
		want      string
	}{
		{"good", good, goodKey, testDomain, ""},
		{"other name", good, goodKey, "other.hearken.test", `is not for "other.hearken.test"`},
		{"key of another certificate", good, otherKey, testDomain, "does not hold the private key of the certificate"},
		{"expired", expired, expiredKey, testDomain, "expired on"},
	} {
		t.Run(c.name, func(t *testing.T) {
			writeTestFile(t, filepath.Join(dir, "cert.pem"), c.cert)
			writeTestFile(t, filepath.Join(dir, "key.pem"), c.key)
			p := writeConfig(t, dir, fmt.Sprintf("[tls]\ndomains = [%q]\ncert_file = \"cert.pem\"\nkey_file = \"key.pem\"\n", c.domain))
			cfg, err := loadConfig(p)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s := cfg.summary(); !strings.Contains(s, "certificate from "+filepath.Join(dir, "cert.pem")+", valid until") {
					t.Errorf("summary:\n%s", s)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "BEGIN") {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// --http-listen is refused without [tls]; the demo stays plain HTTP.
func TestHTTPListenNeedsTLS(t *testing.T) {
	cfg := writeConfig(t, t.TempDir(), "")
	var stdout, stderr bytes.Buffer
	if status := Main([]string{"serve", "--config", cfg, "--http-listen", ":8081"}, &stdout, &stderr); status != 2 ||
		!strings.Contains(stderr.String(), "no [tls] section") {
		t.Errorf("serve --http-listen without [tls] = %d\n%s", status, stderr.String())
	}
	demo, _, err := demoConfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if demo.TLS != nil {
		t.Errorf("the demo config has a [tls] section")
	}
}

// The home and safety pages tell a visitor on the clear web that the
// network can see the visit, and give the onion address; through the
// onion service they do not.
func TestClearWebNotice(t *testing.T) {
	onion := strings.Repeat("d", 56) + ".onion"
	withOnion := newEnv(t, fmt.Sprintf("onion_address = %q", onion))
	without := newEnv(t, "")
	const notice = `<section class="clearweb">`
	for _, path := range []string{"/", "/en/", "/ar/", "/fr/safety", "/zh/safety"} {
		for _, c := range []struct {
			name          string
			env           *testEnv
			host          string
			notice, shows bool
		}{
			{"clear web", withOnion, "report.school.example", true, true},
			{"clear web, no onion configured", without, "report.school.example", true, false},
			{"the configured onion", withOnion, onion, false, false},
			{"an onion service not configured", without, strings.Repeat("e", 56) + ".onion:80", false, false},
		} {
			req := httptest.NewRequest("GET", path, nil)
			req.Host = c.host
			body := c.env.do(req).Body.String()
			if strings.Contains(body, notice) != c.notice || strings.Contains(body, onion+"</code>") != c.shows {
				t.Errorf("%s %s: notice %v (want %v), onion shown %v (want %v)", c.name, path,
					strings.Contains(body, notice), c.notice, strings.Contains(body, onion+"</code>"), c.shows)
			}
		}
	}
	for _, path := range []string{"/en/report", "/en/check"} {
		if strings.Contains(withOnion.get(path).Body.String(), notice) {
			t.Errorf("%s carries the notice", path)
		}
	}
}
