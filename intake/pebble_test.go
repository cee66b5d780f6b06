package intake

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/internal/testkit"
)

// pebble is a local ACME CA for the tests: Debian's pebble package,
// started with challenges that always pass (nothing on the internet
// could reach a test's ports anyway).
type pebble struct {
	directory string // the ACME directory URL
	caFile    string // the certificate pebble's own API is served with
	roots     *x509.CertPool
}

// startPebble runs pebble, issuing certificates valid for validity, and
// stops it when the test ends.
func startPebble(t *testing.T, validity time.Duration) *pebble {
	t.Helper()
	bin, err := exec.LookPath("pebble")
	if err != nil {
		t.Fatal("pebble is not installed (Debian: apt-get install pebble; .ci/run installs it)")
	}
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Now().Add(24*time.Hour))
	p := &pebble{caFile: filepath.Join(dir, "pebble-api.pem")}
	writeTestFile(t, p.caFile, certPEM)
	keyFile := filepath.Join(dir, "pebble-api.key")
	writeTestFile(t, keyFile, keyPEM)
	api, mgmt := freePort(t), freePort(t)
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress":                  api,
		"managementListenAddress":        mgmt,
		"certificate":                    p.caFile,
		"privateKey":                     keyFile,
		"httpPort":                       5002,
		"tlsPort":                        5001,
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
		"certificateValidityPeriod":      int(validity / time.Second),
	}}
	confData, _ := json.Marshal(conf)
	confFile := filepath.Join(dir, "pebble.json")
	writeTestFile(t, confFile, confData)

	out := &testkit.Buffer{}
	cmd := exec.Command(bin, "-config", confFile)
	cmd.Env = append(os.Environ(),
		"PEBBLE_VA_ALWAYS_VALID=1", // no real challenge: nothing could reach us
		"PEBBLE_VA_NOSLEEP=1",
		"PEBBLE_WFE_NONCEREJECT=0", // acme retries bad nonces, but a renewal that fails waits half an hour
	)
	cmd.Stdout, cmd.Stderr = out, out
	// If the test binary dies without its cleanups (a panic elsewhere, a
	// timeout), pebble goes with it instead of living on.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("pebble's output:\n%s", out)
		}
	})

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Timeout: testkit.Patience, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	p.directory = "https://" + api + "/dir"
	err = testkit.WaitFor(testkit.Patience, func() bool {
		select {
		case err := <-exited:
			exited <- err
			return true
		default:
		}
		resp, err := client.Get(p.directory)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if err != nil || cmd.ProcessState != nil {
		t.Fatalf("pebble did not start: %v\n%s", err, out)
	}
	// The root pebble issues under, made afresh at each start.
	resp, err := client.Get("https://" + mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	rootPEM, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	p.roots = x509.NewCertPool()
	if !p.roots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("pebble's root: %s", rootPEM)
	}
	return p
}

// freePort returns a loopback address nothing listens on just now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func writeTestFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// selfSigned makes a certificate and key, in PEM, for names and ips.
func selfSigned(t *testing.T, names []string, ips []net.IP, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "hearken test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              notAfter,
		DNSNames:              names,
		IPAddresses:           ips,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// tlsLive is serve running with a [tls] section.
type tlsLive struct {
	*liveServer
	httpAddr  string
	onionSock string // the onion service's plain-HTTP socket
}

// startTLSServer runs serve with the config at cfgPath, HTTPS and plain
// HTTP on free loopback ports, logs captured.
func startTLSServer(t *testing.T, cfgPath, dataDir string) *tlsLive {
	t.Helper()
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ls := &liveServer{logs: &testkit.Buffer{}, errLogs: &testkit.Buffer{}, dataDir: dataDir, cfg: cfg}
	tl := &tlsLive{liveServer: ls, onionSock: filepath.Join(t.TempDir(), "intake.sock")}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, serveOptions{
			DataDir:    dataDir,
			Listen:     "127.0.0.1:0",
			HTTPListen: "127.0.0.1:0",
			// Tor's way in, beside HTTPS.
			OnionListen: "unix:" + tl.onionSock,
			Logger:      zerolog.New(ls.logs),
			ErrorLog:    log.New(ls.errLogs, "", 0),
			HTTPReady:   func(a net.Addr) { tl.httpAddr = a.String() },
			Ready:       func(a net.Addr) { ready <- a },
		})
	}()
	select {
	case a := <-ready:
		ls.addr = a.String()
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	}
	var stopped bool
	ls.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { ls.stop() })
	return tl
}

// canaryAddr is the loopback address the tests' clients connect from, so
// that a log naming the client can be told from one naming the server.
var canaryAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}

// httpsClient talks to the server at addr whatever the URL's host, as a
// browser that resolved host to it would, trusting roots and following no
// redirects.
func httpsClient(addr string, roots *x509.CertPool) *http.Client {
	d := &net.Dialer{LocalAddr: canaryAddr, Timeout: testkit.Patience}
	return &http.Client{
		Timeout: testkit.Patience,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "tcp", addr)
			},
			TLSClientConfig:   &tls.Config{RootCAs: roots},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// tlsDial makes one handshake from the canary address.
func tlsDial(addr string, conf *tls.Config) (*tls.Conn, error) {
	d := &net.Dialer{LocalAddr: canaryAddr, Timeout: testkit.Patience}
	return tls.DialWithDialer(d, "tcp", addr, conf)
}

// servedLeaf returns the certificate the server presents for name,
// verified against roots as of its own start of validity, so that a
// short-lived test certificate cannot expire under a slow test.
func servedLeaf(addr, name string, roots *x509.CertPool) (*x509.Certificate, error) {
	c, err := tlsDial(addr, &tls.Config{ServerName: name, InsecureSkipVerify: true})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	certs := c.ConnectionState().PeerCertificates
	inter := x509.NewCertPool()
	for _, ic := range certs[1:] {
		inter.AddCert(ic)
	}
	_, err = certs[0].Verify(x509.VerifyOptions{
		DNSName: name, Roots: roots, Intermediates: inter, CurrentTime: certs[0].NotBefore.Add(time.Second),
	})
	if err != nil {
		return nil, fmt.Errorf("served certificate does not verify: %w", err)
	}
	return certs[0], nil
}
