package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

const webhookTimeout = 30 * time.Second

// webhookSender posts an alert's fixed JSON to one chat webhook.
type webhookSender struct {
	url    *url.URL
	client *http.Client
}

func newWebhookSender(u *url.URL, roots *x509.CertPool, dial dialFunc) *webhookSender {
	plain := u.Scheme == "http"
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// http:// is allowed only to a loopback host (parseWebhook), and
			// then only if the connection really stays on this machine.
			if plain && !peerIsLoopback(c) {
				c.Close()
				return nil, errNotLoopback
			}
			return c, nil
		},
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: dialTimeout,
		ForceAttemptHTTP2:   true,
		DisableKeepAlives:   true,
	}
	return &webhookSender{url: u, client: &http.Client{
		Transport: tr,
		Timeout:   webhookTimeout,
		// A redirect could lead anywhere; a hook that moved must be
		// configured anew.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

var errNotLoopback = errors.New("not a loopback connection")

func (w *webhookSender) send(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url.String(), bytes.NewReader(body))
	if err != nil {
		return &failure{class: classWebhookConn}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Hearken")
	resp, err := w.client.Do(req)
	if err != nil {
		if isTLSError(err) {
			return &failure{class: classWebhookTLS}
		}
		return &failure{class: classWebhookConn}
	}
	defer resp.Body.Close()
	// Drain a little so the server sees a clean end; never read it otherwise.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &failure{class: classWebhookCode, code: resp.StatusCode}
	}
	return nil
}
