package alert

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/textproto"
)

// Failure classes. A failure carries its class and at most a numeric status
// code: never the underlying error, whose text can hold the server's reply
// (which may echo what was sent) or an address.
const (
	classSMTPConnect  = "smtp_connect"
	classSMTPTLS      = "smtp_tls"
	classSMTPNoTLS    = "smtp_starttls_missing"
	classSMTPAuth     = "smtp_auth"
	classSMTPRejected = "smtp_rejected"
	classSMTPProtocol = "smtp_protocol"
	classWebhookConn  = "webhook_connect"
	classWebhookTLS   = "webhook_tls"
	classWebhookCode  = "webhook_status"
)

var classText = map[string]string{
	classSMTPConnect:  "could not connect to the mail server",
	classSMTPTLS:      "TLS with the mail server failed: its certificate was not valid for its name, or the handshake failed",
	classSMTPNoTLS:    "the mail server does not offer STARTTLS, which a server on another machine must",
	classSMTPAuth:     "the mail server refused the username or password, or offers neither AUTH PLAIN nor LOGIN",
	classSMTPRejected: "the mail server refused the sender, a recipient or the message",
	classSMTPProtocol: "the mail server broke off or answered unexpectedly",
	classWebhookConn:  "could not connect to the webhook",
	classWebhookTLS:   "TLS with the webhook failed: its certificate was not valid for its name, or the handshake failed",
	classWebhookCode:  "the webhook answered with an error status",
}

// failure is a delivery failure described by its class alone.
type failure struct {
	class string
	code  int // SMTP reply or HTTP status code; 0 if none
}

func (f *failure) Error() string {
	if f.code != 0 {
		return fmt.Sprintf("%s (%d): %s", f.class, f.code, classText[f.class])
	}
	return f.class + ": " + classText[f.class]
}

// smtpFailure classifies err from a step of the SMTP session whose class is
// class, keeping only the reply code of an SMTP error.
func smtpFailure(class string, err error) *failure {
	if isTLSError(err) {
		return &failure{class: classSMTPTLS}
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return &failure{class: class, code: te.Code}
	}
	if class == classSMTPRejected || class == classSMTPAuth {
		// No reply code: the connection broke rather than the server saying no.
		class = classSMTPProtocol
	}
	return &failure{class: class}
}

func isTLSError(err error) bool {
	var (
		verr *tls.CertificateVerificationError
		herr x509.HostnameError
		uerr x509.UnknownAuthorityError
		cerr x509.CertificateInvalidError
		rerr tls.RecordHeaderError
		aerr tls.AlertError
	)
	return errors.As(err, &verr) || errors.As(err, &herr) || errors.As(err, &uerr) ||
		errors.As(err, &cerr) || errors.As(err, &rerr) || errors.As(err, &aerr)
}
