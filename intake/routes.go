package intake

import (
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/gorilla/mux"
)

// Methods, as routes declare them. HEAD is answered like GET (net/http
// leaves out the body).
var (
	getHead = []string{http.MethodGet, http.MethodHead}
	post    = []string{http.MethodPost}
)

// routes builds the public site's router. Every page is registered once,
// in pages, which is applied twice: with no prefix, where the paths serve
// the default language, and with the /{lang} prefix, whose variable
// matches the enabled languages only, so any other prefix is answered by
// the 404 page.
//
// The prefixed pages are not a PathPrefix subrouter: in gorilla/mux v1.8.1
// a subrouter's routes share its prefix matcher, which clears a method
// mismatch found by an earlier sibling, so a wrong method on any but the
// last of them gets 404 instead of 405 (gorilla/mux#751).
func (s *server) routes() *mux.Router {
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(s.notFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(s.methodNotAllowed)
	r.Use(captureRoute)

	r.HandleFunc("/healthz", serveHealth).Methods(getHead...)

	quoted := make([]string, len(s.cfg.Languages))
	for i, l := range s.cfg.Languages {
		quoted[i] = regexp.QuoteMeta(l)
	}
	lang := "/{lang:" + strings.Join(quoted, "|") + "}"
	r.Handle(lang, s.page(func(w http.ResponseWriter, r *http.Request, lang string) {
		http.Redirect(w, r, "/"+lang+"/", http.StatusMovedPermanently)
	})).Methods(getHead...)

	s.pages(r, "")
	s.pages(r, lang)
	return r
}

// pages registers the site's pages on r under prefix. Forms are guarded
// against posts from other sites.
func (s *server) pages(r *mux.Router, prefix string) {
	form := func(h pageFunc) http.Handler { return s.cop.Handler(s.page(h)) }
	r.Handle(prefix+"/", s.page(s.landing)).Methods(getHead...)
	r.Handle(prefix+"/report", s.page(s.reportForm)).Methods(getHead...)
	r.Handle(prefix+"/report", form(s.submitReport)).Methods(post...)
	r.Handle(prefix+"/check", s.page(s.checkForm)).Methods(getHead...)
	r.Handle(prefix+"/check", form(s.checkCode)).Methods(post...)
	r.Handle(prefix+"/check/add", form(s.addMessage)).Methods(post...)
	r.Handle(prefix+"/safety", s.page(s.safety)).Methods(getHead...)
}

// pageFunc handles a request for a page in lang, an enabled language.
type pageFunc func(w http.ResponseWriter, r *http.Request, lang string)

// page passes h the language of the path, or the default language for the
// unprefixed paths.
func (s *server) page(h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := mux.Vars(r)["lang"]
		if lang == "" {
			lang = s.cfg.DefaultLanguage
		}
		h(w, r, lang)
	})
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, "", http.StatusNotFound, "")
}

// probeMethods are the methods the site's routes take, in the order Allow
// lists them.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost}

// methodNotAllowed answers a path the site has with a method it does not
// take: the calm 405 page in the path's language, with Allow. mux does not
// say which methods matched the path, so each is tried against the router.
// On a form's path, an unsafe method from another site is refused first,
// as the form itself would refuse it.
func (s *server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	var allow []string
	lang := ""
	for _, m := range probeMethods {
		probe := *r
		probe.Method = m
		var match mux.RouteMatch
		if s.router.Match(&probe, &match) && match.MatchErr == nil {
			allow = append(allow, m)
			lang = match.Vars["lang"]
		}
	}
	if lang == "" {
		lang = s.cfg.DefaultLanguage
	}
	if slices.Contains(allow, http.MethodPost) && s.cop.Check(r) != nil {
		s.renderError(w, lang, http.StatusForbidden, "")
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	s.renderError(w, lang, http.StatusMethodNotAllowed, "")
}

// templateVar matches a route variable's pattern, which logs leave out.
var templateVar = regexp.MustCompile(`\{(\w+):[^}]*\}`)

// routeTemplate is the matched route's path template, like
// "/{lang}/report", for logs: never the URL, which holds whatever a client
// sent. It is "" outside a matched route.
func routeTemplate(r *http.Request) string {
	rt := mux.CurrentRoute(r)
	if rt == nil {
		return ""
	}
	t, err := rt.GetPathTemplate()
	if err != nil {
		return ""
	}
	return templateVar.ReplaceAllString(t, "{$1}")
}

func serveHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok"))
}
