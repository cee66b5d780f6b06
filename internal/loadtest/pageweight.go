package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// PageBudget is the size limit for one public page with everything it loads:
// small enough for a cheap phone on a poor connection, or for Tor.
const PageBudget = 16 << 10

// RequestBudget is the most requests one public page may cost: the HTML
// alone, its stylesheet inline. Anything a page loads is a request an
// observer can see and a file a browser may keep.
const RequestBudget = 1

// maxBody bounds what the benchmark reads of any one response.
const maxBody = 8 << 20

// maxRedirects bounds how many redirects one fetch follows.
const maxRedirects = 5

// PageWeight is what one public page costs a visitor with an empty cache.
type PageWeight struct {
	Path       string
	Status     int    // status of the page itself after redirects; 0 if it failed
	Err        string // network error kind, if the page could not be fetched
	HTMLBytes  int64  // the page's own body
	CSSBytes   int64  // stylesheets, inline (part of HTMLBytes) or loaded, including @import
	TotalBytes int64  // everything fetched, redirect bodies included
	Requests   int    // every same-origin request, redirects included
	Scripts    int    // <script> elements
	InlineJS   int    // on* handler attributes and javascript: URLs
	OffHost    []string
	LinksOut   []string
	Broken     []string // same-origin subresources that did not answer 200
}

// Flags lists what is wrong with the page, empty if nothing is.
func (p *PageWeight) Flags() []string {
	var f []string
	if p.Err != "" {
		f = append(f, "unreachable:"+p.Err)
	} else if p.Status != http.StatusOK {
		f = append(f, fmt.Sprintf("status-%d", p.Status))
	}
	if p.TotalBytes > PageBudget {
		f = append(f, "over-16KiB")
	}
	if p.Requests > RequestBudget {
		f = append(f, fmt.Sprintf("over-%d-requests", RequestBudget))
	}
	if p.Scripts > 0 {
		f = append(f, "script")
	}
	if p.InlineJS > 0 {
		f = append(f, "inline-js")
	}
	if len(p.OffHost) > 0 {
		f = append(f, "off-host-load")
	}
	if len(p.Broken) > 0 {
		f = append(f, "broken-subresource")
	}
	return f
}

// resource is one thing a page makes the browser load.
type resource struct {
	url  *url.URL
	kind string // css, img, script, iframe, font, connect, other
}

// pageRefs is what the tokenizer found in one document.
type pageRefs struct {
	loads     []resource
	links     []*url.URL // navigations: <a>, <area>, <form action>, non-loading <link>
	scripts   int
	inlineJS  int
	inlineCSS int64 // bytes inside <style> elements
}

// newPageClient returns a client that asks for uncompressed bodies, so byte
// counts are what the server sends without help from compression, and that
// reports redirects instead of following them, so each hop is counted.
func newPageClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DisableCompression:  true,
			MaxIdleConnsPerHost: 4,
		},
		Timeout: requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// fetched is the outcome of one fetch with its redirects.
type fetched struct {
	url      *url.URL // final URL
	status   int
	body     []byte
	requests int
	bytes    int64 // every body read, redirect bodies included
}

// fetch GETs u, following same-origin redirects by hand.
func fetch(ctx context.Context, c *http.Client, u *url.URL) (*fetched, error) {
	f := &fetched{url: u}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url.String(), nil)
		if err != nil {
			return f, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return f, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		f.requests++
		f.bytes += int64(len(body))
		f.status = resp.StatusCode
		f.body = body
		if err != nil {
			return f, err
		}
		loc := resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" || f.requests > maxRedirects {
			return f, nil
		}
		next, err := f.url.Parse(loc)
		if err != nil || !sameOrigin(next, u) {
			return f, nil // an off-site redirect is where measurement stops
		}
		f.url = next
	}
}

// MeasurePages measures the landing page, then the landing, report, check
// and safety pages of lang and of every language the landing page links to.
// It fails only if the landing page cannot be fetched at all.
func MeasurePages(ctx context.Context, c *http.Client, base *url.URL, lang string) ([]PageWeight, error) {
	root := base.ResolveReference(&url.URL{Path: "/"})
	first, refs, err := measurePage(ctx, c, root)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrUnreachable, errorKind(err))
	}
	pages := []PageWeight{first}
	langs := []string{lang}
	for _, l := range languages(refs, root) {
		if !slices.Contains(langs, l) {
			langs = append(langs, l)
		}
	}
	slices.Sort(langs[1:])
	for _, l := range langs {
		for _, p := range []string{"/" + l + "/", "/" + l + "/report", "/" + l + "/check", "/" + l + "/safety"} {
			pw, _, _ := measurePage(ctx, c, base.ResolveReference(&url.URL{Path: p}))
			pages = append(pages, pw)
		}
	}
	return pages, nil
}

// measurePage fetches one page and everything same-origin it loads.
func measurePage(ctx context.Context, c *http.Client, u *url.URL) (PageWeight, *pageRefs, error) {
	pw := PageWeight{Path: u.Path}
	f, err := fetch(ctx, c, u)
	pw.Requests, pw.TotalBytes = f.requests, f.bytes
	if err != nil {
		pw.Err = errorKind(err)
		return pw, nil, err
	}
	pw.Status = f.status
	pw.HTMLBytes = int64(len(f.body))
	refs := scanHTML(f.body, f.url)
	pw.Scripts, pw.InlineJS = refs.scripts, refs.inlineJS
	pw.CSSBytes = refs.inlineCSS
	for _, l := range refs.links {
		if isWeb(l) && !sameOrigin(l, u) {
			pw.LinksOut = appendUnique(pw.LinksOut, l.String())
		}
	}
	seen := map[string]bool{}
	queue := refs.loads
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		if !isWeb(r.url) {
			continue
		}
		if !sameOrigin(r.url, u) {
			pw.OffHost = appendUnique(pw.OffHost, r.kind+" "+r.url.String())
			continue
		}
		key := r.url.String()
		if r.kind == "connect" || seen[key] {
			continue
		}
		seen[key] = true
		sf, err := fetch(ctx, c, r.url)
		pw.Requests += sf.requests
		pw.TotalBytes += sf.bytes
		if err != nil || sf.status != http.StatusOK {
			pw.Broken = append(pw.Broken, r.url.Path)
			continue
		}
		if r.kind == "css" {
			pw.CSSBytes += sf.bytes
			queue = append(queue, cssRefs(sf.body, sf.url)...)
		}
	}
	return pw, refs, nil
}

var langPath = regexp.MustCompile(`^/([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)/(?:report|check|safety)?$`)

// languages returns the language prefixes of same-origin links on a page:
// /fr/ or /fr/report, never a guess from anything else.
func languages(refs *pageRefs, page *url.URL) []string {
	var out []string
	for _, l := range refs.links {
		if !sameOrigin(l, page) {
			continue
		}
		if m := langPath.FindStringSubmatch(l.Path); m != nil {
			out = appendUnique(out, m[1])
		}
	}
	return out
}

// loadingRels maps <link rel> values that make the browser fetch or connect
// to the kind of thing fetched.
var loadingRels = map[string]string{
	"stylesheet":       "css",
	"icon":             "img",
	"apple-touch-icon": "img",
	"mask-icon":        "img",
	"manifest":         "other",
	"preload":          "",
	"prefetch":         "",
	"modulepreload":    "script",
	"prerender":        "connect",
	"preconnect":       "connect",
	"dns-prefetch":     "connect",
}

var preloadAs = map[string]string{"style": "css", "font": "font", "script": "script", "image": "img", "document": "iframe"}

// srcTags maps elements whose src (or data) attribute loads something to its kind.
var srcTags = map[string]string{
	"img": "img", "script": "script", "iframe": "iframe", "frame": "iframe",
	"embed": "other", "video": "other", "audio": "other", "source": "other",
	"track": "other", "input": "img", "image": "img",
}

// scanHTML tokenizes a document and collects what it loads and links to.
func scanHTML(body []byte, page *url.URL) *pageRefs {
	refs := &pageRefs{}
	base := page
	z := html.NewTokenizer(bytes.NewReader(body))
	inStyle := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return refs
		case html.TextToken:
			if inStyle {
				text := z.Text()
				refs.inlineCSS += int64(len(text))
				refs.loads = append(refs.loads, cssRefs(text, base)...)
			}
			continue
		case html.EndTagToken:
			inStyle = false
			continue
		case html.StartTagToken, html.SelfClosingTagToken:
		default:
			continue
		}
		name, hasAttr := z.TagName()
		tag := string(name)
		inStyle = tag == "style" && tt == html.StartTagToken
		attrs := map[string]string{}
		for hasAttr {
			var k, v []byte
			k, v, hasAttr = z.TagAttr()
			key := string(k)
			attrs[key] = string(v)
			if strings.HasPrefix(key, "on") {
				refs.inlineJS++
			}
			if strings.HasPrefix(strings.ToLower(strings.TrimSpace(string(v))), "javascript:") {
				refs.inlineJS++
			}
		}
		resolve := func(v string) *url.URL {
			v = strings.TrimSpace(v)
			if v == "" || strings.HasPrefix(v, "#") {
				return nil
			}
			u, err := base.Parse(v)
			if err != nil {
				return nil
			}
			return u
		}
		load := func(v, kind string) {
			if u := resolve(v); u != nil {
				refs.loads = append(refs.loads, resource{u, kind})
			}
		}
		if s, ok := attrs["style"]; ok {
			refs.loads = append(refs.loads, cssRefs([]byte(s), base)...)
		}
		switch tag {
		case "base":
			if u := resolve(attrs["href"]); u != nil {
				base = u
			}
			continue
		case "script":
			refs.scripts++
		case "a", "area":
			if u := resolve(attrs["href"]); u != nil {
				refs.links = append(refs.links, u)
			}
			continue
		case "form":
			if u := resolve(attrs["action"]); u != nil {
				refs.links = append(refs.links, u)
			}
			continue
		case "link":
			kind, loads := "", false
			for _, rel := range strings.Fields(strings.ToLower(attrs["rel"])) {
				if k, ok := loadingRels[rel]; ok {
					loads = true
					if k == "" {
						k = preloadAs[strings.ToLower(attrs["as"])]
						if k == "" {
							k = "other"
						}
					}
					if kind == "" || kind == "connect" {
						kind = k
					}
				}
			}
			if loads {
				load(attrs["href"], kind)
			} else if u := resolve(attrs["href"]); u != nil {
				refs.links = append(refs.links, u)
			}
			continue
		case "object":
			load(attrs["data"], "other")
			continue
		}
		kind, ok := srcTags[tag]
		if !ok {
			continue
		}
		if tag == "input" && !strings.EqualFold(attrs["type"], "image") {
			continue
		}
		load(attrs["src"], kind)
		if tag == "image" {
			load(attrs["href"], kind)
			load(attrs["xlink:href"], kind)
		}
		if tag == "video" {
			load(attrs["poster"], "img")
		}
		for _, cand := range strings.Split(attrs["srcset"], ",") {
			if f := strings.Fields(cand); len(f) > 0 {
				load(f[0], kind)
			}
		}
	}
}

var (
	cssURL    = regexp.MustCompile(`(?i)url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)`)
	cssImport = regexp.MustCompile(`(?i)@import\s+(?:"([^"]*)"|'([^']*)')`)
	fontExt   = regexp.MustCompile(`(?i)\.(woff2?|ttf|otf|eot)$`)
)

// cssRefs finds url(...) and @import targets in a stylesheet.
func cssRefs(css []byte, base *url.URL) []resource {
	var out []resource
	add := func(v, kind string) {
		v = strings.TrimSpace(v)
		if v == "" || strings.HasPrefix(v, "#") {
			return
		}
		u, err := base.Parse(v)
		if err != nil {
			return
		}
		if kind == "" {
			kind = "img"
			if fontExt.MatchString(u.Path) {
				kind = "font"
			}
		}
		out = append(out, resource{u, kind})
	}
	for _, m := range cssImport.FindAllSubmatch(css, -1) {
		add(string(m[1])+string(m[2]), "css")
	}
	for _, m := range cssURL.FindAllSubmatchIndex(css, -1) {
		// url() right after @import is the import itself.
		if bytes.HasSuffix(bytes.TrimSpace(bytes.ToLower(css[:m[0]])), []byte("@import")) {
			add(firstGroup(css, m), "css")
			continue
		}
		add(firstGroup(css, m), "")
	}
	return out
}

func firstGroup(b []byte, m []int) string {
	for i := 2; i+1 < len(m); i += 2 {
		if m[i] >= 0 {
			return string(b[m[i]:m[i+1]])
		}
	}
	return ""
}

func isWeb(u *url.URL) bool {
	return u.Scheme == "http" || u.Scheme == "https"
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && hostPort(a) == hostPort(b)
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return strings.ToLower(u.Hostname()) + ":" + port
}

func appendUnique(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// ErrUnreachable means the server did not answer at all.
var ErrUnreachable = errors.New("server unreachable")
