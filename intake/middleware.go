package intake

import (
	"context"
	"net"
	"net/http"
	"strings"
)

// securityHeaders go on every response, error pages included.
var securityHeaders = map[string]string{
	"Content-Security-Policy":      "default-src 'none'; style-src " + styleHash + "; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	"Referrer-Policy":              "no-referrer",
	"X-Content-Type-Options":       "nosniff",
	"X-Frame-Options":              "DENY",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Permissions-Policy":           "camera=(), microphone=(), geolocation=(), interest-cohort=()",
	// Pages may carry a receipt or a reply, and any page in a shared
	// device's cache says the site was visited: nothing is cached.
	"Cache-Control": "no-store",
}

type routeKey struct{}

// routeInfo carries the matched route template from inside the router back
// out to the request log.
type routeInfo struct{ template string }

// captureRoute runs inside the router, once a route has matched.
func captureRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ri, ok := r.Context().Value(routeKey{}).(*routeInfo); ok {
			if t := routeTemplate(r); t != "" {
				ri.template = t
			}
		}
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection, to move the
// read deadline of an upload in progress.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// knownMethods are logged as they are; anything else is logged as "other",
// so a client cannot write its own text into the log.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// wrap adds what every response needs: security headers, a body limit and
// a panic guard. Only failures are logged, naming the route template and
// the status: a line per request, stamped by the service manager, would be
// a record of when each report arrived.
func (s *server) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		for k, v := range securityHeaders {
			hdr.Set(k, v)
		}
		if s.cfg.OnionAddress != "" && !s.onOnion(r) {
			hdr.Set("Onion-Location", "http://"+s.cfg.OnionAddress+r.URL.EscapedPath())
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)

		ri := &routeInfo{template: "notfound"}
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, ri))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				// The panic value is not logged: it could hold request data.
				s.log.Error().Str("route", ri.template).Msg("handler panicked")
				if sw.status == 0 {
					s.renderError(sw, "", http.StatusInternalServerError, "")
				}
				return
			}
			if sw.status >= 500 && sw.status != http.StatusServiceUnavailable {
				method := r.Method
				if !knownMethods[method] {
					method = "other"
				}
				s.log.Error().Str("route", ri.template).Str("method", method).
					Int("status", sw.status).Msg("request failed")
			}
		}()
		h.ServeHTTP(sw, r)
	})
}

// viaOnion reports whether the request came through an onion service: tor
// passes on the onion host name the visitor's browser asked for.
func (s *server) viaOnion(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return s.onOnion(r) || strings.HasSuffix(strings.ToLower(host), ".onion")
}

// onOnion reports whether the request already came in on the onion address.
func (s *server) onOnion(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.EqualFold(host, s.cfg.OnionAddress)
}
