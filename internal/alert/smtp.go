package alert

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/smtp"
	"slices"
	"strings"
	"time"
)

const (
	dialTimeout    = 20 * time.Second
	sessionTimeout = time.Minute
	// heloName is what we call ourselves in EHLO: never this host's name.
	heloName = "localhost"
)

// dialFunc opens a TCP connection; tests replace it to reach a name that
// resolves nowhere.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// smtpSender delivers mail to one set of recipients through one server.
type smtpSender struct {
	server   server
	username string
	password Password
	from     string
	to       []string
	roots    *x509.CertPool
	dial     dialFunc
}

// send delivers msg in one SMTP session. Errors are *failure.
func (s *smtpSender) send(ctx context.Context, msg []byte) error {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	conn, err := s.dial(dctx, "tcp", s.server.addr)
	cancel()
	if err != nil {
		return &failure{class: classSMTPConnect}
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(sessionTimeout))
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	tlsConfig := &tls.Config{ServerName: s.server.host, RootCAs: s.roots, MinVersion: tls.VersionTLS12}
	secure := false
	if s.server.implicitTLS {
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return &failure{class: classSMTPTLS}
		}
		conn, secure = tc, true
	}
	c, err := smtp.NewClient(conn, s.server.host)
	if err != nil {
		return smtpFailure(classSMTPProtocol, err)
	}
	defer c.Close()
	if err := c.Hello(heloName); err != nil {
		return smtpFailure(classSMTPProtocol, err)
	}
	// Plain text is allowed only when the configured host names this
	// machine and the connection really goes to it.
	plainOK := loopbackHost(s.server.host) && peerIsLoopback(conn)
	if !secure && !plainOK {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return &failure{class: classSMTPNoTLS}
		}
		if err := c.StartTLS(tlsConfig); err != nil {
			return smtpFailure(classSMTPTLS, err)
		}
		secure = true
	}
	if s.username != "" {
		ok, mechs := c.Extension("AUTH")
		var a smtp.Auth
		switch fields := strings.Fields(strings.ToUpper(mechs)); {
		case !ok:
			return &failure{class: classSMTPAuth}
		case slices.Contains(fields, "PLAIN"):
			a = &plainAuth{s.username, s.password}
		case slices.Contains(fields, "LOGIN"):
			a = &loginAuth{user: s.username, password: s.password}
		default:
			return &failure{class: classSMTPAuth}
		}
		if err := c.Auth(a); err != nil {
			return smtpFailure(classSMTPAuth, err)
		}
	}
	if err := c.Mail(s.from); err != nil {
		return smtpFailure(classSMTPRejected, err)
	}
	for _, to := range s.to {
		if err := c.Rcpt(to); err != nil {
			return smtpFailure(classSMTPRejected, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return smtpFailure(classSMTPRejected, err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpFailure(classSMTPProtocol, err)
	}
	if err := w.Close(); err != nil {
		return smtpFailure(classSMTPRejected, err)
	}
	_ = c.Quit() // the message is accepted; a lost goodbye changes nothing
	return nil
}

// plainAuth is AUTH PLAIN (RFC 4616). net/smtp's own refuses loopback
// addresses other than 127.0.0.1 and ::1; the decision to send a password is
// made once, in send.
type plainAuth struct {
	user     string
	password Password
}

func (a *plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.password.reveal()), nil
}

func (a *plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected challenge")
	}
	return nil, nil
}

// loginAuth is AUTH LOGIN, which some mail services offer instead of PLAIN:
// the username, then the password, each answering one challenge.
type loginAuth struct {
	user     string
	password Password
	step     int
}

func (a *loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	a.step = 0
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.user), nil
	case 2:
		return []byte(a.password.reveal()), nil
	default:
		return nil, errors.New("unexpected challenge")
	}
}
