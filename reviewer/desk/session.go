package desk

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// The desk's session: one token, printed once, becomes one session.
//
// The cookie is HttpOnly, SameSite=Strict, Path=/ and has no Domain, but
// it is not Secure and so cannot take the __Host- prefix: a browser sets a
// Secure cookie only over HTTPS or, in some browsers, on a loopback page,
// and the desk must work in every browser over plain HTTP on loopback.
// Nothing crosses a network, so Secure would add nothing here. Cookies do
// not tell ports apart: another program on 127.0.0.1 that the lead's
// browser visits could receive it. SECURITY.md discusses this.

// cookieName is the session cookie's name.
const cookieName = "hearken_desk"

// csrfField is the hidden form field every POST carries.
const csrfField = "csrf"

// session is the one browser session a desk serves.
type session struct {
	id   []byte // the cookie's value
	csrf []byte // the token every form carries
}

func randomBytes() ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return b, nil
}

func encode(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// equal compares a secret with what a request carries, in constant time.
func equal(secret []byte, given string) bool {
	b, err := base64.RawURLEncoding.DecodeString(given)
	if err != nil || len(secret) == 0 {
		return false
	}
	return subtle.ConstantTimeCompare(secret, b) == 1
}

// discardLog swallows net/http's own error log, which prints client
// addresses.
var discardLog = log.New(io.Discard, "", 0)

// setHosts records the Host headers the desk answers to: its own address,
// and localhost on the same port.
func (d *Desk) setHosts(addr *net.TCPAddr) {
	port := strconv.Itoa(addr.Port)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hosts = []string{net.JoinHostPort(addr.IP.String(), port), net.JoinHostPort("localhost", port)}
}

// startURL is the address the lead opens first, with the one-time token.
func (d *Desk) startURL() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return "http://" + d.hosts[0] + "/open?token=" + encode(d.token)
}

// hostAllowed reports whether a request's Host header names the desk. A
// page on another name that resolves to 127.0.0.1 (DNS rebinding) sends
// its own name, and is refused.
func (d *Desk) hostAllowed(host string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, h := range d.hosts {
		if strings.EqualFold(host, h) {
			return true
		}
	}
	return false
}

// redeem turns the one-time token into the session, once. It returns the
// new session, or nil when the token is wrong or already used.
func (d *Desk) redeem(token string) *session {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.token == nil || !equal(d.token, token) {
		return nil
	}
	id, err1 := randomBytes()
	csrf, err2 := randomBytes()
	if err1 != nil || err2 != nil {
		return nil
	}
	d.token = nil
	d.sess = &session{id: id, csrf: csrf}
	return d.sess
}

// sessionOf returns the session a request's cookie names, or nil.
func (d *Desk) sessionOf(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	d.mu.Lock()
	s := d.sess
	d.mu.Unlock()
	if s == nil || !equal(s.id, c.Value) {
		return nil
	}
	return s
}

// sameOrigin reports whether a POST comes from the desk's own pages.
// Browsers send Sec-Fetch-Site (all current ones) and Origin. The desk's
// Referrer-Policy is no-referrer, under which a browser sends "Origin:
// null" even for the desk's own forms; that is accepted only when
// Sec-Fetch-Site vouches that the request is same-origin. A request with
// neither header is not from a browser page and is refused too.
func sameOrigin(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	if site != "" && site != "same-origin" {
		return false
	}
	switch origin := r.Header.Get("Origin"); origin {
	case "", "null":
		return site == "same-origin"
	default:
		return origin == "http://"+r.Host
	}
}

// securityHeaders go on every response.
var securityHeaders = map[string]string{
	"Content-Security-Policy":      pageCSP,
	"Referrer-Policy":              "no-referrer",
	"X-Content-Type-Options":       "nosniff",
	"X-Frame-Options":              "DENY",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Permissions-Policy":           "camera=(), microphone=(), geolocation=()",
	"Cache-Control":                "no-store",
}

// pageCSP allows the desk's own stylesheet and images and nothing else:
// no script at all, no other host, no framing.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// maxForm bounds a form body: a reply or note (64 KiB) and its fields.
const maxForm = 256 << 10

// guard is the desk's front door. In order: the Host header; the
// stylesheet, for anyone; the one-time token; the session cookie; for a
// POST, its origin and CSRF token; then the idle lock. A request the lead
// made (not an automatic refresh) starts the idle period again.
func (d *Desk) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range securityHeaders {
			w.Header().Set(k, v)
		}
		if !d.hostAllowed(r.Host) {
			plainError(w, http.StatusMisdirectedRequest, "This address is not the desk's. Open the link that reviewer serve printed.")
			return
		}
		if r.URL.Path == "/static/desk.css" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		if r.URL.Path == "/open" {
			d.openSession(w, r)
			return
		}
		s := d.sessionOf(r)
		if s == nil {
			d.pages.refuse(w, http.StatusForbidden, "Open the desk with its link",
				"This page opens only from the link that reviewer serve printed. Each link works once: if you have used it already, or closed the browser since, stop reviewer serve (Ctrl+C) and start it again for a new link.")
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPost:
			if !sameOrigin(r) {
				d.pages.refuse(w, http.StatusForbidden, "Not sent from the desk", "This form did not come from the desk's own pages, so it was ignored. Nothing was changed.")
				return
			}
			if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
				plainError(w, http.StatusUnsupportedMediaType, "Forms only.")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				d.pages.refuse(w, http.StatusRequestEntityTooLarge, "Too much text", "That was more text than the desk takes at once (a reply or note can be up to 64 KiB). Nothing was changed.")
				return
			}
			if !equal(s.csrf, r.PostForm.Get(csrfField)) {
				d.pages.refuse(w, http.StatusForbidden, "The form was out of date", "The desk did not recognise this form, perhaps because reviewer serve was restarted. Go back, reload the page and try again. Nothing was changed.")
				return
			}
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			plainError(w, http.StatusMethodNotAllowed, "Method not allowed.")
			return
		}
		d.lockIfIdle()
		if r.URL.Query().Get("auto") == "" {
			d.touch()
		}
		next.ServeHTTP(w, r.WithContext(withSession(r.Context(), s)))
	})
}

// openSession redeems the one-time token: it sets the session cookie and
// sends the browser to the inbox, so the token leaves the address bar.
func (d *Desk) openSession(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		plainError(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	s := d.redeem(r.URL.Query().Get("token"))
	if s == nil {
		d.pages.refuse(w, http.StatusForbidden, "This link has been used",
			"Each link from reviewer serve opens the desk once, in one browser. Stop reviewer serve (Ctrl+C) and start it again for a new link.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    encode(s.id),
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
	d.touch()
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// plainError answers with a short text, for requests that get no page.
func plainError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}
