package desk

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/desk.css
var stylesheet []byte

// pages holds one template set per page, each with the layout.
type pages struct {
	sets map[string]*template.Template
}

var funcs = template.FuncMap{
	"plural": plural,
}

func loadPages() (*pages, error) {
	layout, err := template.New("layout").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{sets: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, n)
		if err != nil {
			return nil, err
		}
		p.sets[name] = t
	}
	return p, nil
}

// view is what every page's template gets.
type view struct {
	Title   string
	Nav     string // "inbox" or "stats": the current place in the navigation
	Session bool   // the request carries the session: show the navigation
	Locked  bool
	CSRF    string
	// Refresh is how many seconds until the page reloads itself (0 for
	// never), from RefreshURL, which carries auto=1 so that the reload
	// does not count as use. Only the sync page, while a sync runs, does
	// this: a page that reloads by itself is hard to use with a screen
	// reader (WCAG 2.2.1), so no other page does.
	Refresh    int
	RefreshURL string
	Sync       syncView
	Body       any
}

// RefreshMeta is the page's meta refresh element. It is built here
// because html/template rightly refuses data in a meta element's content.
func (v *view) RefreshMeta() template.HTML {
	if v.Refresh <= 0 || !strings.HasPrefix(v.RefreshURL, "/") {
		return ""
	}
	return template.HTML(fmt.Sprintf(`<meta http-equiv="refresh" content="%d;url=%s">`, v.Refresh, html.EscapeString(v.RefreshURL)))
}

type sessionKey struct{}

func withSession(ctx context.Context, s *session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey{}).(*session)
	return s
}

// render writes page name with status code. The page is rendered into a
// buffer first, so a template error never sends half a page.
func (p *pages) render(w http.ResponseWriter, code int, name string, v *view) {
	var b bytes.Buffer
	if err := p.sets[name].ExecuteTemplate(&b, "layout", v); err != nil {
		plainError(w, http.StatusInternalServerError, "The desk could not show this page.")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(b.Bytes())
}

type refusal struct{ Heading, Text string }

// refuse answers with a short page and no navigation: for requests
// without the session, and for forms the guard turns away.
func (p *pages) refuse(w http.ResponseWriter, code int, heading, text string) {
	p.render(w, code, "refuse", &view{Title: heading, Body: refusal{heading, text}})
}

// page starts the view of a page for a request that has the session.
func (d *Desk) page(r *http.Request, title, nav string) *view {
	v := &view{Title: title, Nav: nav, Session: true, Locked: d.locked(), Sync: d.syncer.view(d.now())}
	if s := sessionFrom(r.Context()); s != nil {
		v.CSRF = encode(s.csrf)
	}
	return v
}

// failure shows an error page within the desk, with its navigation.
func (d *Desk) failure(w http.ResponseWriter, r *http.Request, code int, heading, text string) {
	v := d.page(r, heading, "")
	v.Body = refusal{heading, text}
	d.pages.render(w, code, "refuse", v)
}

// plural writes "1 case" or "3 cases".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
