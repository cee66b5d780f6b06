package intake

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hearken-project/hearken/internal/browser"
	"github.com/hearken-project/hearken/vault"
)

// snapshots serves recorded responses of the site at /snap/NAME, with their
// headers, and everything else from the site itself. A page that answers a
// POST (a receipt, a thread, an error) can then be loaded in a browser
// tab exactly as the site sent it.
type snapshots struct {
	site  http.Handler
	mu    sync.Mutex
	pages map[string]*httptest.ResponseRecorder
}

func (s *snapshots) add(name string, rec *httptest.ResponseRecorder) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[name] = rec
	return "/snap/" + name
}

func (s *snapshots) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/snap/")
	if !ok {
		s.site.ServeHTTP(w, r)
		return
	}
	s.mu.Lock()
	rec := s.pages[name]
	s.mu.Unlock()
	if rec == nil {
		http.NotFound(w, r)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// pageStates records every public page and state in lang and returns
// their snapshot paths by name.
func pageStates(t *testing.T, e *testEnv, snap *snapshots, lang string) map[string]string {
	t.Helper()
	paths := map[string]string{}
	add := func(name string, rec *httptest.ResponseRecorder) {
		paths[name] = snap.add(lang+"-"+name, rec)
	}
	p := "/" + lang
	for _, page := range []string{"landing", "report", "check", "safety"} {
		path := p + "/" + page
		if page == "landing" {
			path = p + "/"
		}
		add(page, e.get(path))
	}
	add("404", e.get(p+"/nowhere"))
	add("405", e.do(httptest.NewRequest(http.MethodPut, p+"/report", nil)))

	rec := e.postForm(p+"/report", url.Values{"message": {"hello"}})
	code := receiptOf(t, rec.Body.String())
	add("receipt", rec)
	add("receipt-danger", e.postForm(p+"/report", url.Values{"message": {"he has a knife"}, "danger": {"yes"}}))
	add("check-typo", e.postForm(p+"/check", url.Values{"receipt": {"ABCD"}}))
	add("thread-empty", e.postForm(p+"/check", url.Values{"receipt": {code}}))

	// The team replies, once with a long unbroken word and a file.
	items, _, err := e.store.Pending("", 1000, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	var report vault.Item
	for _, it := range items {
		if env := openItem(t, it); env.Field("message") == "hello" && env.Field("language") == lang {
			report = it
		}
	}
	env := openItem(t, report)
	replyTo, err := age.ParseHybridRecipient(env.ReplyTo)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range []*vault.Envelope{
		{Kind: vault.KindReply, Day: "2026-01-02", Author: "Ms Rivera",
			Fields: []vault.Field{{Name: "message", Value: "Thank you for telling us.\nWe will talk to you soon."}}},
		{Kind: vault.KindReply, Day: "2026-01-03", Author: "Mr O'Neill-Featherstonehaugh",
			Fields:      []vault.Field{{Name: "message", Value: "Here is the link: https://example.org/" + strings.Repeat("averyveryverylongpath", 8)}},
			Attachments: []vault.Attachment{{Name: "a-rather-long-file-name-for-the-plan-we-talked-about.pdf", Type: "application/pdf", Data: []byte("%PDF-1.4 plan")}}},
	} {
		sealed, err := vault.Seal(r, replyTo, member(t).Recipient())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.AddReply(report.Thread, fmt.Sprintf("6f1c1c52-6d1b-4d7e-9a44-%06x%06d", lang, i), sealed); err != nil {
			t.Fatal(err)
		}
	}
	add("thread-replies", e.postForm(p+"/check", url.Values{"receipt": {code}}))
	add("follow-up-sent", e.postForm(p+"/check/add", url.Values{"receipt": {code}, "message": {"again"}}))

	// Refused forms, shown again with the child's words: every field
	// filled in, with long unbroken words.
	long := "https://example.org/" + strings.Repeat("averyveryverylongword", 8)
	filled := [][2]string{{"message", "They said they would hurt me.\n" + long + "\nPlease help."}, {"danger", "unsure"},
		{"about", "me and " + long}, {"when_where", "on the bus\n" + long}, {"role", "student"}, {"contact", long}}
	exe := []filePart{{"run.exe", "application/octet-stream", []byte("MZ\x90\x00\x03binary")}}
	add("400", e.postForm(p+"/report", url.Values{"message": {" "}}))
	add("413-file", e.postMultipart(t, p+"/report", [][2]string{{"message", "hi"}},
		[]filePart{{"big.txt", "text/plain", []byte(strings.Repeat("a", 10<<20+1))}}))
	add("415-file", e.postMultipart(t, p+"/report", [][2]string{{"message", "hi"}}, exe))
	add("again-report-file", e.postMultipart(t, p+"/report", filled, exe))
	add("again-report-long", e.postForm(p+"/report", url.Values{"message": {strings.Repeat(long+" ", maxMessageChars/len(long)+1)}, "about": {long}}))
	add("again-follow-up-file", e.postMultipart(t, p+"/check/add", [][2]string{{"receipt", code}, {"message", filled[0][1]}}, exe))
	// Refused before the message was read: the error page.
	now := time.Now()
	e.srv.rate = newRateLimiter(1, func() time.Time { return now })
	e.srv.rate.allow()
	add("503-rate", e.postForm(p+"/report", url.Values{"message": {"hi"}}))
	e.srv.rate = newRateLimiter(100000, nil)
	req := httptest.NewRequest(http.MethodPost, p+"/report", strings.NewReader("message=hi"))
	req.Header.Set("Content-Type", formType)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	add("403", e.do(req))
	return paths
}

// viewportWidths are a small phone, a common phone and a desktop.
var viewportWidths = []int{320, 390, 1280}

// TestChromiumPagesFitViewport loads every public page and state, in every
// language, in a real browser with JavaScript off, and fails if any is
// wider than the viewport: on a phone such a page opens zoomed out, and an
// Arabic one opened blank. It needs chromium (see internal/browser).
// Screenshots of every page in English and Arabic at 390 and 1280 px, and
// of any page too wide, are kept in browser.ArtifactDir.
func TestChromiumPagesFitViewport(t *testing.T) {
	b := browser.Start(t)
	e := newEnv(t, "[limits]\nsubmissions_per_minute = 100000\n")
	snap := &snapshots{site: e.srv, pages: map[string]*httptest.ResponseRecorder{}}
	ts := httptest.NewServer(snap)
	t.Cleanup(ts.Close)

	for _, lang := range e.cfg.Languages {
		t.Run(lang, func(t *testing.T) {
			states := pageStates(t, e, snap, lang)
			tab := b.NewTab(t)
			for _, width := range viewportWidths {
				for name, path := range states {
					status, err := tab.Load(ts.URL+path, width)
					if err != nil {
						t.Fatal(err)
					}
					if status == 0 {
						t.Fatalf("%s: no status", name)
					}
					got, err := tab.ScrollWidth()
					if err != nil {
						t.Fatal(err)
					}
					// Every page in English and Arabic at a phone's
					// width and a desktop's, to look at, and any page
					// that fails.
					look := (lang == "en" || lang == "ar") && width != 320
					if !look && got <= width {
						continue
					}
					shot, err := tab.Screenshot(fmt.Sprintf("%s-%d", name, width))
					if err != nil {
						t.Fatal(err)
					}
					if got > width {
						t.Errorf("%s at %d px is %d px wide (screenshot %s)", name, width, got, shot)
					}
				}
			}
		})
	}
}

// receiptLines is a script that returns the receipt's text line by line,
// as the browser laid it out.
const receiptLines = `(() => {
	const el = document.getElementById("receipt");
	const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
	const lines = [];
	let top = null;
	for (let n = walker.nextNode(); n; n = walker.nextNode()) {
		for (let i = 0; i < n.data.length; i++) {
			const r = document.createRange();
			r.setStart(n, i);
			r.setEnd(n, i + 1);
			const t = Math.round(r.getBoundingClientRect().top);
			if (top === null || Math.abs(t - top) > 4) {
				lines.push("");
				top = t;
			}
			lines[lines.length - 1] += n.data[i];
		}
	}
	return lines;
})()`

// TestChromiumReceiptGroupsStayWhole lays out the receipt page at phone
// and desktop widths in a real browser and checks that the code breaks
// only after a hyphen, never inside a group of four: a child copying it
// from a phone must see the groups as they are. It needs chromium.
func TestChromiumReceiptGroupsStayWhole(t *testing.T) {
	b := browser.Start(t)
	e := newEnv(t, "")
	snap := &snapshots{site: e.srv, pages: map[string]*httptest.ResponseRecorder{}}
	ts := httptest.NewServer(snap)
	t.Cleanup(ts.Close)
	// A hyphen before a digit is where browsers refuse to break a line
	// unless told they may.
	codes := []string{"ABCD-1EFG-2HJK-3MNP-4QRS-5TVW", "W1W1-9WW9-1W1W-9W9W-WWWW-1111"}
	for range 3 {
		r, err := vault.NewReceipt()
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, r.Reveal())
	}
	tab := b.NewTab(t, browser.JavaScript())
	for _, lang := range []string{"en", "ar", "zh"} {
		for i, code := range codes {
			p := e.srv.newPage(lang, "", "receipt_title")
			p.Receipt = code
			rec := httptest.NewRecorder()
			e.srv.render(rec, http.StatusOK, "receipt", p)
			path := snap.add(fmt.Sprintf("receipt-%s-%d", lang, i), rec)
			for _, width := range []int{320, 360, 390, 414, 768, 1280} {
				if _, err := tab.Load(ts.URL+path, width); err != nil {
					t.Fatal(err)
				}
				lines, err := browser.Eval[[]string](tab, receiptLines)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(lines, "") != code {
					t.Fatalf("%s at %d px: the receipt reads %q, want %q", lang, width, lines, code)
				}
				for _, l := range lines[:len(lines)-1] {
					if !strings.HasSuffix(l, "-") {
						shot, _ := tab.Screenshot(fmt.Sprintf("receipt-%s-%d-%d", lang, i, width))
						t.Errorf("%s at %d px: %s breaks inside a group: %q (screenshot %s)", lang, width, code, lines, shot)
						break
					}
				}
			}
		}
	}
}
