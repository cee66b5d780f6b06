package intake

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hearken-project/hearken/internal/attach"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/style.css
var styleCSS []byte

// styleHash is the stylesheet's CSP source: the page carries the
// stylesheet inline, so a page is one request and nothing of the site is
// left in a browser's cache, and the CSP allows that stylesheet alone.
var styleHash = func() string {
	sum := sha256.Sum256(styleCSS)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// pageNames are the templates that render a whole page through the layout.
var pageNames = []string{"landing", "report", "receipt", "check", "thread", "safety", "error"}

func parseTemplates() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, name := range pageNames {
		m[name] = template.Must(template.New(name).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return m
}

var pages = parseTemplates()

// page is what every template sees.
type page struct {
	L         *locale
	Lang      string
	Page      string // path after /{lang}/, for the language links
	Title     string
	School    string
	QuickExit string
	CSS       template.CSS // the stylesheet, inline
	Contacts  []contactView
	// ContactsLang is set when the contacts are in another language than
	// the page (the deployment has no list for the page's own).
	ContactsLang string
	Languages    []*locale
	DangerFirst  bool
	Notice       string
	// FormError marks an error page that answers a report or a follow-up:
	// it sends the reporter back to their words, not to the start.
	FormError bool
	// Again is set on a form shown again after it was refused, with the
	// reporter's words (see again.go).
	Again *againView

	// What the file inputs accept, for the forms' hints.
	MaxFiles, MaxFileMB int
	FileAccept          string
	// ClearWeb is set on the home and safety pages when the visit did not
	// come through the onion service: they then say who can see it, and
	// give Onion, the onion address, if there is one.
	ClearWeb bool
	Onion    string

	Routes    []routeView
	Receipt   string
	TeamHours string // on a danger report's receipt: when the team reads messages
	// ReceiptHTML is Receipt shown with a line break allowed after each
	// hyphen and nowhere else, so a group never breaks on a narrow phone.
	ReceiptHTML template.HTML
	Info        threadView
	Replies     []replyView
	Closed      bool
}

// T looks up a translated string for the page's language.
func (p *page) T(key string) string { return p.L.T(key) }

type contactView struct {
	Name, Phone string
	Tel         template.URL // built from digits only by telURI
	URL, Host   string
}

type routeView struct{ Name, Label string }

type threadView struct{ Read bool }

type replyView struct {
	Author, Day, Text string
	Files             []string
}

// newPage fills in what the layout needs for lang.
func (s *server) newPage(lang, pageName, titleKey string) *page {
	l := locales[lang]
	p := &page{
		L:         l,
		Lang:      lang,
		Page:      pageName,
		School:    s.cfg.School,
		QuickExit: s.cfg.QuickExitURL,
		CSS:       template.CSS(styleCSS),
		Languages: s.langs,

		MaxFiles:   maxAttachments,
		MaxFileMB:  attach.MaxSize >> 20,
		FileAccept: fileAccept,
	}
	p.Title = l.T(titleKey)
	contacts, fallback := s.cfg.contacts(lang)
	if fallback {
		// Read aloud in the language it is written in.
		p.ContactsLang = locales[s.cfg.DefaultLanguage].HTMLLang
	}
	for _, c := range contacts {
		cv := contactView{Name: c.Name, Phone: c.Phone, Tel: template.URL(telURI(c.Phone))}
		if c.URL != "" {
			if u, err := url.Parse(c.URL); err == nil {
				cv.URL, cv.Host = c.URL, u.Host
			}
		}
		p.Contacts = append(p.Contacts, cv)
	}
	return p
}

// render writes a page. It renders into a buffer first so that a template
// failure becomes a clean 500 instead of half a page.
func (s *server) render(w http.ResponseWriter, status int, name string, p *page) {
	var body []byte
	if name == "receipt" {
		p.ReceiptHTML = breakableCode(p.Receipt)
		body = s.receiptPage(p)
	}
	if body == nil {
		var buf bytes.Buffer
		if pages[name].ExecuteTemplate(&buf, "layout", p) != nil {
			// The error is not logged: template errors can quote the data
			// being rendered, and that may be a receipt or a reply.
			s.log.Error().Str("template", name).Msg("failed to render page")
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		body = buf.Bytes()
	}
	s.write(w, status, body)
}

// receiptPlaceholder and receiptHTMLPlaceholder stand for the code, as
// text and as shown, while a receipt page is rendered for the cache. They
// cannot occur in a real receipt or in any translation.
const (
	receiptPlaceholder     = "RECEIPT_PLACEHOLDER_9F2C"
	receiptHTMLPlaceholder = "RECEIPT_HTML_PLACEHOLDER_9F2C"
)

// breakableCode returns a receipt for display: each hyphen followed by
// <wbr>. Browsers will not break a line between a hyphen and a digit (it
// could be a minus sign), so without <wbr> the only way to fit the code on
// a narrow screen was to break anywhere, in the middle of a group.
func breakableCode(code string) template.HTML {
	groups := strings.Split(code, "-")
	for i, g := range groups {
		groups[i] = template.HTMLEscapeString(g)
	}
	return template.HTML(strings.Join(groups, "-<wbr>"))
}

type receiptKey struct {
	lang   string
	danger bool
}

// receiptPage returns the receipt page for p. The page differs between
// reporters only in the code, so it is rendered once per language and
// danger flag with a placeholder, and the code is spliced in: receipts are
// Crockford symbols and hyphens, which need no HTML escaping. It returns
// nil when the page cannot be made this way.
func (s *server) receiptPage(p *page) []byte {
	if strings.Trim(p.Receipt, "0123456789ABCDEFGHJKMNPQRSTVWXYZ-") != "" {
		return nil
	}
	key := receiptKey{p.Lang, p.DangerFirst}
	cached, ok := s.receiptCache.Load(key)
	if !ok {
		q := *p
		q.Receipt, q.ReceiptHTML = receiptPlaceholder, receiptHTMLPlaceholder
		var buf bytes.Buffer
		if err := pages["receipt"].ExecuteTemplate(&buf, "layout", &q); err != nil {
			return nil
		}
		cached, _ = s.receiptCache.LoadOrStore(key, buf.String())
	}
	return []byte(strings.NewReplacer(receiptPlaceholder, p.Receipt, receiptHTMLPlaceholder, string(p.ReceiptHTML)).Replace(cached.(string)))
}

func (s *server) write(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// renderError writes a calm, translated error page. msgKey may be "" to use
// the status's own message.
func (s *server) renderError(w http.ResponseWriter, lang string, status int, msgKey string) {
	s.renderErrorPage(w, lang, status, msgKey, false)
}

// renderFormError writes the error page that answers a report or a
// follow-up that was not taken: it says that the browser's Back button
// leads to the form with what the reporter wrote still in it.
func (s *server) renderFormError(w http.ResponseWriter, lang string, status int, msgKey string) {
	s.renderErrorPage(w, lang, status, msgKey, true)
}

// renderRefusal writes the error page for a submission refused with ferr.
func (s *server) renderRefusal(w http.ResponseWriter, lang string, ferr *formError) {
	s.renderFormError(w, lang, ferr.status, ferr.key)
}

func (s *server) renderErrorPage(w http.ResponseWriter, lang string, status int, msgKey string, form bool) {
	if lang == "" || !s.cfg.languageEnabled(lang) {
		lang = s.cfg.DefaultLanguage
	}
	code := strconv.Itoa(status)
	if _, ok := locales["en"].Text["err_"+code+"_title"]; !ok {
		code = "500"
	}
	p := s.newPage(lang, "", "err_"+code+"_title")
	if msgKey == "" {
		msgKey = "err_" + code
	}
	p.Notice = p.T(msgKey)
	p.FormError = form
	retryAfterBusy(w, status)
	s.render(w, status, "error", p)
}
