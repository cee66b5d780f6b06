package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestMeasurePagesExact(t *testing.T) {
	f := newFixture(t, nil)
	base, _ := url.Parse(f.URL)
	pages, err := MeasurePages(context.Background(), newPageClient(), base, "en")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, p := range pages {
		paths = append(paths, p.Path)
	}
	want := []string{"/", "/en/", "/en/report", "/en/check", "/en/safety", "/cy/", "/cy/report", "/cy/check", "/cy/safety"}
	if !slices.Equal(paths, want) {
		t.Fatalf("pages = %v, want %v", paths, want)
	}
	p := pages[0]
	html, css := int64(len(fixtureLanding)), int64(len(fixtureCSS))
	if p.Status != 200 || p.HTMLBytes != html || p.CSSBytes != css || p.TotalBytes != html || p.Requests != 1 {
		t.Errorf("landing = %+v, want html %d with css %d inline, in 1 request", p, html, css)
	}
	if p.Scripts != 0 || p.InlineJS != 0 || len(p.OffHost) != 0 {
		t.Errorf("landing loads scripts or off-host things: %+v", p)
	}
	if !slices.Equal(p.LinksOut, []string{"https://www.example.org/weather"}) {
		t.Errorf("links out = %v", p.LinksOut)
	}
	if fl := p.Flags(); len(fl) != 0 {
		t.Errorf("landing flagged %v", fl)
	}
	safety := pages[4]
	if safety.Requests != 1 || safety.CSSBytes != 0 || safety.TotalBytes != int64(len(`<!doctype html><p>Staying safe</p>`)) {
		t.Errorf("safety = %+v", safety)
	}

	var out strings.Builder
	PrintPages(&out, pages)
	for _, s := range []string{"links out:", "https://www.example.org/weather", "/cy/safety"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
}

// measureOne serves body at / (plus a few assets) and measures it.
func measureOne(t *testing.T, body string) PageWeight {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, body)
		case "/a.css":
			fmt.Fprint(w, `@import "b.css"; h1{background:url("/bg.png")}`)
		case "/b.css", "/bg.png", "/x.png":
			fmt.Fprint(w, "xx")
		case "/big.png":
			fmt.Fprint(w, strings.Repeat("x", 17<<10))
		case "/moved":
			http.Redirect(w, r, "/", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL + "/")
	pw, _, err := measurePage(context.Background(), newPageClient(), u)
	if err != nil {
		t.Fatal(err)
	}
	return pw
}

func TestPageFlags(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
		requests   int
		offHost    int
	}{
		{"clean", `<style>h1{color:red}</style><a href="https://elsewhere.example/">out</a>`, nil, 1, 0},
		{"stylesheet loaded", `<link rel=stylesheet href=/b.css>`, []string{"over-1-requests"}, 2, 0},
		{"script tag", `<p>hi</p><SCRIPT>alert(1)</SCRIPT>`, []string{"script"}, 1, 0},
		{"off-host stylesheet", `<link rel="stylesheet" href="https://cdn.example/x.css">`, []string{"off-host-load"}, 1, 1},
		{"off-host script", `<script src="//cdn.example/x.js"></script>`, []string{"script", "off-host-load"}, 1, 1},
		{"off-host font in style", `<style>@font-face{src:url(https://fonts.example/f.woff2)}</style>`, []string{"off-host-load"}, 1, 1},
		{"off-host img srcset", `<img srcset="/x.png 1x, https://img.example/x.png 2x">`, []string{"over-1-requests", "off-host-load"}, 2, 1},
		{"preconnect", `<link rel=preconnect href="https://cdn.example">`, []string{"off-host-load"}, 1, 1},
		{"iframe", `<iframe src="https://video.example/embed"></iframe>`, []string{"off-host-load"}, 1, 1},
		{"inline handler", `<body onload="x()"><a href="javascript:void(0)">x</a>`, []string{"inline-js"}, 1, 0},
		{"css import chain", `<link rel=stylesheet href=/a.css>`, []string{"over-1-requests"}, 4, 0},
		{"heavy", `<img src=/big.png>`, []string{"over-16KiB", "over-1-requests"}, 2, 0},
		{"broken", `<img src=/missing.png>`, []string{"over-1-requests", "broken-subresource"}, 2, 0},
		{"dedupe and anchors", `<img src=/x.png><img src="/x.png"><a href="#top">top</a><img src="data:image/png;base64,AA==">`, []string{"over-1-requests"}, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pw := measureOne(t, tt.body)
			if got := pw.Flags(); !slices.Equal(got, tt.want) {
				t.Errorf("flags = %v, want %v (%+v)", got, tt.want, pw)
			}
			if pw.Requests != tt.requests || len(pw.OffHost) != tt.offHost {
				t.Errorf("requests %d off-host %v, want %d and %d", pw.Requests, pw.OffHost, tt.requests, tt.offHost)
			}
		})
	}
}

func TestImportChainBytes(t *testing.T) {
	pw := measureOne(t, `<link rel=stylesheet href=/a.css>`)
	a := int64(len(`@import "b.css"; h1{background:url("/bg.png")}`))
	html := int64(len(`<link rel=stylesheet href=/a.css>`))
	if pw.CSSBytes != a+2 || pw.TotalBytes != html+a+2+2 {
		t.Errorf("css %d total %d, want %d and %d", pw.CSSBytes, pw.TotalBytes, a+2, html+a+4)
	}
}

func TestRedirectCounts(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/en/", http.StatusFound)
			return
		}
		fmt.Fprint(w, "<p>hello</p>")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/")
	pw, _, err := measurePage(context.Background(), newPageClient(), u)
	if err != nil {
		t.Fatal(err)
	}
	if pw.Requests != 2 || pw.HTMLBytes != int64(len("<p>hello</p>")) || pw.Status != 200 {
		t.Errorf("redirected page = %+v", pw)
	}
}
