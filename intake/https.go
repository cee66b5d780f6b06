package intake

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
	"golang.org/x/net/idna"
)

// acmeDir is the certificate cache inside the data directory: the ACME
// account key, and each domain's key and certificate.
const acmeDir = "acme"

// hstsHeader tells browsers to use HTTPS only, for a year. It is sent over
// HTTPS only, where browsers heed it.
const hstsHeader = "max-age=31536000"

// tlsCipherSuites are the TLS 1.2 suites offered: forward secret, AEAD
// only. TLS 1.3's suites are all of that kind and are not configurable.
var tlsCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// errUnknownHost refuses a TLS handshake for a name not in [tls] domains.
// It reaches net/http's error log at most, which is discarded; it never
// names the host asked for.
var errUnknownHost = errors.New("host name not configured")

// httpsSite is what serve needs for HTTPS: the TLS config for the public
// listener and the handler for the plain-HTTP port.
type httpsSite struct {
	tls *tls.Config
	// challenges answers ACME HTTP-01 challenges and passes everything
	// else to its argument; nil with the school's own certificate.
	challenges func(http.Handler) http.Handler
	domains    []string
	// start begins obtaining certificates, once the listeners are up to
	// answer the CA's challenges; stop ends it and keeps anything still
	// running in autocert from writing to the data directory afterwards.
	start, stop func()
}

// newHTTPS prepares HTTPS for cfg.TLS: autocert with its cache in
// dataDir/acme, or the school's certificate files.
func newHTTPS(cfg *config, dataDir string, lg zerolog.Logger) (*httpsSite, error) {
	t := cfg.TLS
	site := &httpsSite{domains: t.Domains, start: func() {}, stop: func() {}}
	tc := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: tlsCipherSuites,
		// HTTP/1.1 only, as on the onion service: the limits on slow and
		// concurrent uploads are built and tested around it.
		NextProtos: []string{"http/1.1"},
	}
	site.tls = tc
	if !t.acme() {
		files, err := newCertFiles(t.CertFile, t.KeyFile, lg)
		if err != nil {
			return nil, err
		}
		tc.GetCertificate = files.getCertificate
		return site, nil
	}

	dir := filepath.Join(dataDir, acmeDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, errors.New("failed to create the certificate cache")
	}
	// MkdirAll leaves an existing directory's mode alone.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, errors.New("failed to set the certificate cache's mode")
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if t.ACMECAFile != "" {
		roots, err := loadRoots(t.ACMECAFile)
		if err != nil {
			return nil, err
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	watch := &acmeWatch{log: lg}
	cache := &acmeCache{dir: autocert.DirCache(dir), watch: watch}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      cache,
		HostPolicy: hostPolicy(t.Domains),
		Email:      t.Email,
		Client: &acme.Client{
			DirectoryURL: t.ACMEDirectory,
			HTTPClient:   &http.Client{Transport: &classifyingTransport{base: transport, watch: watch}, Timeout: 2 * time.Minute},
			UserAgent:    "hearken",
		},
	}
	tc.NextProtos = append(tc.NextProtos, acme.ALPNProto)
	tc.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		// Refuse other names before autocert looks anything up for them.
		name, ok := configuredHost(hello.ServerName, t.Domains)
		if !ok {
			return nil, errUnknownHost
		}
		cert, err := m.GetCertificate(hello)
		if err != nil && !slices.Equal(hello.SupportedProtos, []string{acme.ALPNProto}) {
			watch.failed(name, "certificate request failed", acmeClass(err))
		}
		return cert, err
	}
	site.challenges = m.HTTPHandler

	ctx, cancel := context.WithCancel(context.Background())
	site.start = func() { go watch.run(ctx, m, cache, t.Domains) }
	// Not waiting for run: a request to the CA in progress may take
	// minutes to time out, and the closed cache keeps it harmless.
	site.stop = func() {
		cancel()
		cache.close()
	}
	return site, nil
}

// hostPolicy lets autocert work for the configured names only.
func hostPolicy(domains []string) autocert.HostPolicy {
	return func(_ context.Context, host string) error {
		if _, ok := configuredHost(host, domains); !ok {
			return errUnknownHost
		}
		return nil
	}
}

// configuredHost returns the configured name that host (a TLS server name
// or an HTTP Host, with or without a port) stands for.
func configuredHost(host string, domains []string) (string, bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host, err := idna.Lookup.ToASCII(strings.TrimSuffix(host, "."))
	if err != nil {
		return "", false
	}
	host = strings.ToLower(host)
	if slices.Contains(domains, host) {
		return host, true
	}
	return "", false
}

// withHSTS adds Strict-Transport-Security to every HTTPS response.
func withHSTS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", hstsHeader)
		h.ServeHTTP(w, r)
	})
}

// redirectHandler answers the plain-HTTP port: everything is sent to the
// HTTPS site. The new address is made only of a configured name, the HTTPS
// port and the path of one of the site's own pages (anything else goes to
// the home page), so nothing a visitor sends is echoed into a Location
// that proxies and browsers may record. The query is dropped.
func (s *server) redirectHandler(domains []string, httpsPort string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, ok := configuredHost(r.Host, domains)
		if !ok {
			host = domains[0]
		}
		if httpsPort != "443" {
			host = net.JoinHostPort(host, httpsPort)
		}
		path := "/"
		probe := &http.Request{Method: http.MethodGet, URL: r.URL, Host: r.Host, Header: http.Header{}}
		var match mux.RouteMatch
		if s.router.Match(probe, &match) && match.MatchErr == nil {
			path = r.URL.Path
		}
		h := w.Header()
		h.Set("Location", "https://"+host+path)
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusMovedPermanently)
		if r.Method != http.MethodHead {
			w.Write([]byte("This site is served over HTTPS.\n"))
		}
	})
}

// quietErrorLog passes net/http's messages to l, less its TLS handshake
// errors: they name the client's address, and the internet sends a steady
// stream of them. Nil discards everything.
func quietErrorLog(l *log.Logger) *log.Logger {
	if l == nil {
		return log.New(discard{}, "", 0)
	}
	return log.New(handshakeFilter{l}, "", 0)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

type handshakeFilter struct{ l *log.Logger }

func (f handshakeFilter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("TLS handshake error")) {
		return len(p), nil
	}
	f.l.Print(string(p))
	return len(p), nil
}

// certFiles serves the school's own certificate and reads it again when
// either file changes on disk, as when another tool renews it. A pair
// that does not load (a renewal half written) keeps the old one serving.
type certFiles struct {
	certFile, keyFile string
	log               zerolog.Logger

	mu     sync.Mutex
	cert   *tls.Certificate
	stamp  [2]fileStamp // of the files cert was read from
	failed [2]fileStamp // of the files that last failed to load
}

// fileStamp tells a file's versions apart without reading it. The inode
// changes when a tool replaces the file or moves a symlink.
type fileStamp struct {
	ino, size int64
	mtime     time.Time
}

func statFile(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	st := fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = int64(sys.Ino)
	}
	return st
}

func newCertFiles(certFile, keyFile string, lg zerolog.Logger) (*certFiles, error) {
	c := &certFiles{certFile: certFile, keyFile: keyFile, log: lg}
	c.stamp = [2]fileStamp{statFile(certFile), statFile(keyFile)}
	cert, err := loadKeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	c.cert = cert
	lg.Info().Str("expires", cert.Leaf.NotAfter.UTC().Format(time.DateOnly)).Msg("certificate loaded")
	return c, nil
}

// getCertificate costs two stat calls a handshake, far less than the
// handshake itself, and needs no timer.
func (c *certFiles) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := [2]fileStamp{statFile(c.certFile), statFile(c.keyFile)}
	if st != c.stamp && st != c.failed {
		cert, err := loadKeyPair(c.certFile, c.keyFile)
		if err != nil {
			c.failed = st
			c.log.Warn().Msg("certificate reload failed: the files do not load as a pair; still serving the previous certificate")
		} else {
			c.cert, c.stamp = cert, st
			c.log.Info().Str("expires", cert.Leaf.NotAfter.UTC().Format(time.DateOnly)).Msg("certificate reloaded")
		}
	}
	return c.cert, nil
}

// leafOf parses the first certificate of a PEM bundle as autocert caches
// it (key first, then the chain).
func leafOf(data []byte) *x509.Certificate {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil
			}
			return c
		}
	}
}

// configure makes srv the HTTPS site: TLS, HSTS, and HTTP/1.1 only.
func (h *httpsSite) configure(srv *http.Server) {
	srv.TLSConfig = h.tls
	srv.Handler = withHSTS(srv.Handler)
	var p http.Protocols
	p.SetHTTP1(true)
	srv.Protocols = &p
}

// httpServer is the plain-HTTP port's server. It reads no bodies, so its
// timeouts are short.
func (h *httpsSite) httpServer(pub *server, httpsAddr net.Addr, errorLog *log.Logger) *http.Server {
	port := "443"
	if tcp, ok := httpsAddr.(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
	}
	handler := pub.redirectHandler(h.domains, port)
	if h.challenges != nil {
		handler = h.challenges(handler)
	}
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          errorLog,
	}
}
