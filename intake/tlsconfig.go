package intake

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/acme/autocert"
)

// tlsSettings is the config's [tls] section: HTTPS on the clear web, with
// certificates from an ACME CA (Let's Encrypt unless acme_directory says
// otherwise) or the school's own certificate files.
type tlsSettings struct {
	// Domains are the names the site answers to, such as
	// report.school.example. Certificates are obtained for these and no
	// others, and the plain-HTTP port redirects to the first.
	Domains []string `toml:"domains"`
	// Email is the optional ACME account contact, told of problems with
	// the certificates.
	Email string `toml:"email"`
	// ACMEDirectory is the ACME CA's directory URL.
	ACMEDirectory string `toml:"acme_directory"`
	// ACMECAFile holds extra roots to trust for the ACME CA's own HTTPS: a
	// private CA, a school's PKI, a test CA.
	ACMECAFile string `toml:"acme_ca_file"`
	// CertFile and KeyFile are the school's own certificate chain and key,
	// in PEM, instead of ACME. They are read again when they change.
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
}

// acme reports whether certificates come from an ACME CA.
func (t *tlsSettings) acme() bool { return t.CertFile == "" && t.KeyFile == "" }

// applyDefaults normalises the names and makes paths relative to the
// config file's directory.
func (t *tlsSettings) applyDefaults(configPath string) {
	for i, d := range t.Domains {
		t.Domains[i] = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	}
	if t.acme() && t.ACMEDirectory == "" {
		t.ACMEDirectory = autocert.DefaultACMEDirectory
	}
	for _, p := range []*string{&t.ACMECAFile, &t.CertFile, &t.KeyFile} {
		if *p != "" && !filepath.IsAbs(*p) && configPath != "" {
			*p = filepath.Join(filepath.Dir(configPath), *p)
		}
	}
}

// problems checks the section and returns what is wrong with it, each
// prefixed "tls: ".
func (t *tlsSettings) problems(onion string, now time.Time) []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, "tls: "+fmt.Sprintf(format, args...)) }
	if len(t.Domains) == 0 {
		if t.acme() {
			add("domains is required: the names this site answers to, such as [\"report.school.example\"]; or set cert_file and key_file for the school's own certificate")
		} else {
			add("domains is required: the names the certificate in cert_file is for")
		}
	}
	seen := map[string]bool{}
	for _, d := range t.Domains {
		switch {
		case d == onion && onion != "":
			add("domains: %q is the onion address; it needs no certificate", d)
		case strings.HasSuffix(d, ".onion"):
			add("domains: %q is an onion address; certificate authorities do not issue for those", d)
		case !validDomain(d):
			add("domains: %q is not a host name (letters, digits and hyphens, with at least one dot; no wildcards, no IP addresses; international names in their xn-- form)", d)
		}
		if seen[d] {
			add("domains: %q is listed twice", d)
		}
		seen[d] = true
	}
	if t.acme() {
		if u, err := url.Parse(t.ACMEDirectory); err != nil || u.Scheme != "https" || u.Host == "" {
			add("acme_directory must be an https:// URL, such as %s", autocert.DefaultACMEDirectory)
		}
		if t.Email != "" {
			if a, err := mail.ParseAddress(t.Email); err != nil || a.Address != t.Email {
				add("email %q is not an email address", t.Email)
			}
		}
		if t.ACMECAFile != "" {
			if _, err := loadRoots(t.ACMECAFile); err != nil {
				add("acme_ca_file %s: %v", t.ACMECAFile, err)
			}
		}
		return p
	}
	if t.Email != "" || t.ACMECAFile != "" || t.ACMEDirectory != "" {
		add("email, acme_directory and acme_ca_file are for automatic certificates; remove them when using cert_file and key_file")
	}
	if t.CertFile == "" || t.KeyFile == "" {
		add("cert_file and key_file go together: set both")
		return p
	}
	cert, err := loadKeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		add("%v", err)
		return p
	}
	if now.After(cert.Leaf.NotAfter) {
		add("the certificate in %s expired on %s", t.CertFile, cert.Leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	for _, d := range t.Domains {
		if validDomain(d) && cert.Leaf.VerifyHostname(d) != nil {
			add("the certificate in %s is not for %q", t.CertFile, d)
		}
	}
	return p
}

// validDomain reports whether d is a lower-case DNS host name with at least
// two labels, not an IP address and not a wildcard.
func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	labels := strings.Split(d, ".")
	for _, l := range labels {
		if len(l) < 1 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	// A top-level label of digits only is an IP address, not a name.
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

// maxPEMFile bounds a certificate, key or roots file; real ones are a few
// kilobytes.
const maxPEMFile = 1 << 20

func readPEMFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errors.New("file not found")
	}
	if errors.Is(err, fs.ErrPermission) {
		return nil, errors.New("permission denied (the server's user must be able to read it)")
	}
	if err != nil {
		return nil, errors.New("cannot be read")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPEMFile+1))
	if err != nil {
		return nil, errors.New("cannot be read")
	}
	if len(data) > maxPEMFile {
		return nil, errors.New("is too large for a PEM file")
	}
	return data, nil
}

// loadRoots reads PEM certificates to trust.
func loadRoots(path string) (*x509.CertPool, error) {
	data, err := readPEMFile(path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, errors.New("holds a certificate that cannot be parsed")
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, errors.New("holds no PEM certificate")
	}
	return pool, nil
}

// loadKeyPair reads a certificate chain and its private key. Its errors
// name the files and never quote their contents.
func loadKeyPair(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := readPEMFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("cert_file %s: %w", certFile, err)
	}
	keyPEM, err := readPEMFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("key_file %s: %w", keyFile, err)
	}
	if b, _ := pem.Decode(certPEM); b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("cert_file %s: does not start with a PEM certificate", certFile)
	}
	if b, _ := pem.Decode(keyPEM); b == nil || !strings.Contains(b.Type, "PRIVATE KEY") {
		return nil, fmt.Errorf("key_file %s: does not start with a PEM private key", keyFile)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// crypto/tls's messages name PEM block types, never key bytes, but
		// a fixed message is simpler to trust.
		return nil, fmt.Errorf("key_file %s does not hold the private key of the certificate in cert_file %s, or one of them is damaged", keyFile, certFile)
	}
	return &cert, nil
}

// tlsSummary describes the [tls] section for `intake check`.
func (c *config) tlsSummary(b *strings.Builder) {
	t := c.TLS
	if t == nil {
		return
	}
	if t.acme() {
		fmt.Fprintf(b, "  https: %s, certificates from %s (kept in DATA/acme)\n", strings.Join(t.Domains, ", "), t.ACMEDirectory)
	} else {
		cert, _ := loadKeyPair(t.CertFile, t.KeyFile)
		fmt.Fprintf(b, "  https: %s, certificate from %s, valid until %s (read again when it changes)\n",
			strings.Join(t.Domains, ", "), t.CertFile, cert.Leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	if c.OnionAddress == "" {
		fmt.Fprintf(b, "  note: onion_address is not set, so clear-web visitors are not offered the onion address\n")
	}
}
