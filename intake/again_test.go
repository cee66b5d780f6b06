package intake

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/hearken-project/hearken/internal/attach"
	"github.com/hearken-project/hearken/internal/testkit"
)

// formValues returns what a browser would send from the page's form whose
// action is action, as the browser's HTML parser reads the page: text
// fields, textareas (whose first line break the parser drops), checked
// radio buttons and hidden fields. It fails if there is no such form, or
// if a field for the reporter's words does not take their direction.
func formValues(t *testing.T, body, action string) url.Values {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	attr := func(n *html.Node, key string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val, true
			}
		}
		return "", false
	}
	var form *html.Node
	for n := range doc.Descendants() {
		if a, _ := attr(n, "action"); n.Type == html.ElementNode && n.Data == "form" && a == action {
			form = n
		}
	}
	if form == nil {
		t.Fatalf("no form for %s on the page:\n%s", action, body)
	}
	vals := url.Values{}
	for n := range form.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		name, _ := attr(n, "name")
		// The reporter's words take their own direction: English shown
		// back on an Arabic page must not have its full stop moved to the
		// start of the line.
		if typ, _ := attr(n, "type"); (n.Data == "textarea" || n.Data == "input" && typ == "text") && name != "website" {
			if dir, _ := attr(n, "dir"); dir != "auto" {
				t.Errorf("the field %s has dir=%q, want auto", name, dir)
			}
		}
		switch n.Data {
		case "textarea":
			var text strings.Builder
			for c := range n.ChildNodes() {
				text.WriteString(c.Data)
			}
			vals.Add(name, text.String())
		case "input":
			typ, _ := attr(n, "type")
			value, _ := attr(n, "value")
			_, checked := attr(n, "checked")
			switch {
			case typ == "radio" && checked, typ == "text" && value != "", typ == "hidden":
				vals.Add(name, value)
			case typ == "file" && value != "":
				t.Errorf("the file input %s has a value", name)
			}
		}
	}
	return vals
}

// words is what a child wrote in every field: line breaks (a leading one
// too, which a textarea drops unless the page guards it), markup, quotes,
// ampersands and right-to-left text.
var words = map[string]string{
	"message":    "\nThey said they would hurt me if I tell.\r\nخائف & <b>scared</b> \"really\" 'really'\r\n\r\nPlease help.",
	"about":      `me & my friend "K" <script>alert(1)</script>`,
	"danger":     "unsure",
	"when_where": "on the bus\r\nevery day & at lunch",
	"role":       "student",
	"contact":    "تواصل معي",
}

// sent is words as the form sends them, in the form's order, with the
// honeypot left empty as a person leaves it.
func sent(message string) [][2]string {
	var f [][2]string
	for _, name := range []string{"message", "danger", "about", "when_where", "role"} {
		v := words[name]
		if name == "message" {
			v = message
		}
		f = append(f, [2]string{name, v})
	}
	return f
}

// kept checks that the form on body is filled in with what was sent, as
// the server keeps it (line breaks as one).
func kept(t *testing.T, what, body, action string, want map[string]string) {
	t.Helper()
	got := formValues(t, body, action)
	for name, v := range want {
		v = strings.ReplaceAll(v, "\r\n", "\n")
		if g := got.Get(name); g != v {
			t.Errorf("%s: the form shown again has %s = %q, want %q", what, name, g, v)
		}
	}
	if g := got.Get("website"); g != "" {
		t.Errorf("%s: the honeypot came back filled in: %q", what, g)
	}
}

var exe = filePart{"run.exe", "application/octet-stream", []byte("MZ\x90\x00\x03binary")}

// A report refused for something the child can put right comes back as
// the form, with every word filled in, the problem said at the top and at
// the field, and the file input empty; in every language. Nothing is
// stored.
func TestRefusedReportKeepsWords(t *testing.T) {
	e := newEnv(t, "[limits]\nsubmissions_per_minute = 100000\n")
	small := filePart{"a.txt", "text/plain", []byte("a\n")}
	damaged := pngFile(t)
	damaged[len(damaged)-20] ^= 0xFF
	for _, lang := range e.cfg.Languages {
		l := locales[lang]
		for _, c := range []struct {
			what    string
			message string
			files   []filePart
			extra   [][2]string
			ferr    *formError
		}{
			{"a file too big", words["message"], []filePart{{"big.txt", "text/plain", bytes.Repeat([]byte("a"), attach.MaxSize+1)}}, nil, errFileBig},
			{"a file of the wrong type", words["message"], []filePart{exe}, nil, errFileType},
			{"a damaged file", words["message"], []filePart{{"photo.png", "image/png", damaged}}, nil, errFileBroken},
			{"a file not what its name says", words["message"], []filePart{{"photo.png", "image/png", []byte("%PDF-1.4 not a png")}}, nil, errFileWrong},
			{"six files", words["message"], []filePart{small, small, small, small, small, small}, nil, errManyFiles},
			{"a good file, then a bad one", words["message"], []filePart{small, exe, small}, nil, errFileType},
			{"a message too long", strings.Repeat("é", maxMessageChars+1), nil, nil, errLongMessage},
			{"a blank message", " \r\n ", []filePart{small}, nil, errNoMessage},
			{"a choice not on the form", words["message"], nil, [][2]string{{"route", "nobody"}}, errBadChoice},
		} {
			fields := append(sent(c.message), c.extra...)
			// The form's order: the file input comes before contact and
			// the honeypot, which must still be read after a refused file.
			raw, ct := browserForm(t, fields, c.files, [][2]string{{"contact", words["contact"]}, {"website", ""}})
			req := httptest.NewRequest(http.MethodPost, "/"+lang+"/report", bytes.NewReader(raw))
			req.Header.Set("Content-Type", ct)
			rec := e.do(req)
			what := lang + ", " + c.what
			if rec.Code != c.ferr.status {
				t.Errorf("%s: status %d, want %d", what, rec.Code, c.ferr.status)
			}
			checkPage(t, e, what, rec)
			page := rec.Body.String()
			want := map[string]string{"message": c.message, "about": words["about"], "danger": words["danger"],
				"when_where": words["when_where"], "role": words["role"], "contact": words["contact"]}
			kept(t, what, page, "/"+lang+"/report", want)
			problem := htmlEscape(l.T(c.ferr.again))
			if n := strings.Count(page, problem); c.ferr.field != "" && n != 2 || c.ferr.field == "" && n != 1 {
				t.Errorf("%s: the problem is said %d times", what, n)
			}
			if !strings.Contains(page, "<title>"+htmlEscape(l.T("again_title"))+"</title>") {
				t.Errorf("%s: the title does not say the message was not sent", what)
			}
			filesNote := strings.Contains(page, `<p class="problem-at" id="file-problem">`) &&
				strings.Contains(page, `aria-describedby="file-problem file-hint"`)
			if filesNote != (len(c.files) > 0) {
				t.Errorf("%s: files were sent: %v; the file input says to choose them again: %v", what, len(c.files) > 0, filesNote)
			}
			if strings.Contains(page, htmlEscape(l.T("again_partial"))) {
				t.Errorf("%s: the whole form was read, but the page says some may be missing", what)
			}
			if !strings.Contains(page, htmlEscape(fmt.Sprintf(l.T("f_files_hint"), maxAttachments, attach.MaxSize>>20))) {
				t.Errorf("%s: the accepted files are not listed", what)
			}
		}
	}
	if n := e.items(t); n != 0 {
		t.Fatalf("refused reports stored %d items", n)
	}
}

// A follow-up refused for something the child can put right comes back as
// the thread's page, its form filled in with the message and the receipt
// kept.
func TestRefusedFollowUpKeepsWords(t *testing.T) {
	e := newEnv(t, "[limits]\nsubmissions_per_minute = 100000\n")
	code := receiptOf(t, e.postForm("/en/report", url.Values{"message": {"hello"}}).Body.String())
	before := e.items(t)
	for _, lang := range e.cfg.Languages {
		for _, c := range []struct {
			what    string
			message string
			files   []filePart
			ferr    *formError
		}{
			{"a file of the wrong type", words["message"], []filePart{exe}, errFileType},
			{"a file too big", words["message"], []filePart{{"big.txt", "text/plain", bytes.Repeat([]byte("a"), attach.MaxSize+1)}}, errFileBig},
			{"a message too long", strings.Repeat("ж", maxMessageChars+1), nil, errLongMessage},
			{"a blank message", "\r\n", nil, errNoMessage},
		} {
			what := lang + " follow-up, " + c.what
			rec := e.postMultipart(t, "/"+lang+"/check/add", [][2]string{{"receipt", strings.ToLower(code)}, {"message", c.message}}, c.files)
			if rec.Code != c.ferr.status {
				t.Errorf("%s: status %d, want %d", what, rec.Code, c.ferr.status)
			}
			checkPage(t, e, what, rec)
			page := rec.Body.String()
			kept(t, what, page, "/"+lang+"/check/add", map[string]string{"message": c.message, "receipt": code})
			if !strings.Contains(page, htmlEscape(locales[lang].T(c.ferr.again))) || !strings.Contains(page, `<a href="#message">`) {
				t.Errorf("%s: the page does not say what went wrong, with a way to the form", what)
			}
			if !strings.Contains(page, htmlEscape(locales[lang].T("replies_title"))) {
				t.Errorf("%s: not the thread's page", what)
			}
		}
	}
	// A code that finds no thread has no page to show the form on.
	rec := e.postMultipart(t, "/en/check/add", [][2]string{{"receipt", "ABCD"}, {"message", "canary-words-3318"}}, []filePart{exe})
	if rec.Code != http.StatusUnsupportedMediaType || strings.Contains(rec.Body.String(), "canary-words-3318") {
		t.Errorf("follow-up with a bad code: %d\n%s", rec.Code, rec.Body)
	}
	if n := e.items(t); n != before {
		t.Fatalf("refused follow-ups stored %d items", n-before)
	}
}

// A form that filled in the honeypot is a bot's: it is never shown again,
// whatever else was wrong with it, and its words are not echoed.
func TestHoneypotNotShownAgain(t *testing.T) {
	e := newEnv(t, "")
	code := receiptOf(t, e.postForm("/en/report", url.Values{"message": {"hello"}}).Body.String())
	for _, c := range []struct {
		path   string
		fields [][2]string
		files  []filePart
	}{
		{"/en/report", [][2]string{{"message", "canary-bot-2290"}, {"website", "http://spam.example"}}, []filePart{exe}},
		{"/en/report", [][2]string{{"message", "canary-bot-2290"}, {"website", "x"}}, nil},
		{"/en/report", [][2]string{{"message", strings.Repeat("canary-bot-2290 ", 2000)}, {"website", "x"}}, nil},
		{"/en/check/add", [][2]string{{"receipt", code}, {"message", "canary-bot-2290"}, {"website", "x"}}, []filePart{exe}},
	} {
		rec := e.postMultipart(t, c.path, c.fields, c.files)
		body := rec.Body.String()
		if rec.Code != http.StatusBadRequest || !strings.Contains(body, htmlEscape(locales["en"].T("err_honeypot"))) || strings.Contains(body, "canary-bot-2290") || strings.Contains(body, "<form") {
			t.Errorf("%s %v: %d\n%s", c.path, c.fields[len(c.fields)-1], rec.Code, body)
		}
	}
}

// A refusal the child cannot put right keeps its error page where the
// server never read their message, and that page promises nothing about
// the Back button it cannot keep. Where the message was read, the form
// comes back, saying what may be missing.
func TestBusyKeepsWhatWasRead(t *testing.T) {
	e := newEnv(t, "[limits]\nmax_concurrent_submissions = 1\nsubmissions_per_minute = 2\n")
	e.srv.queueWait = time.Millisecond
	honest := htmlEscape(locales["en"].T("error_back_form"))

	// Over the rate: refused before the body is read.
	now := time.Now()
	e.srv.rate = newRateLimiter(1, func() time.Time { return now })
	e.srv.rate.allow()
	rec := e.postMultipart(t, "/en/report", sent("canary-unread-6610"), nil)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), honest) || strings.Contains(rec.Body.String(), "canary-unread-6610") {
		t.Errorf("over the rate: %d\n%s", rec.Code, rec.Body)
	}
	e.srv.rate = newRateLimiter(100000, nil)

	// No sealing slot: the whole form was read.
	hold, ok := e.srv.slots.acquire(t.Context(), 1)
	if !ok {
		t.Fatal("could not take the slot")
	}
	rec = e.postMultipart(t, "/en/report", append(sent(words["message"]), [2]string{"contact", words["contact"]}), []filePart{{"a.txt", "text/plain", []byte("a\n")}})
	hold()
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "10" {
		t.Errorf("no slot: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	kept(t, "no slot", rec.Body.String(), "/en/report", map[string]string{"message": words["message"], "about": words["about"], "contact": words["contact"]})
	if body := rec.Body.String(); !strings.Contains(body, htmlEscape(locales["en"].T("again_busy"))) || !strings.Contains(body, `id="file-problem"`) || strings.Contains(body, htmlEscape(locales["en"].T("again_partial"))) {
		t.Errorf("no slot: the page does not say the site is busy and the file must be chosen again:\n%s", body)
	}

	// Upload memory runs out part way through a file: the message was
	// read, what came after it was not.
	e.srv.mem = newBudget(2 * reserveChunk * memoryPerByte)
	holdMem, _ := e.srv.mem.acquire(t.Context(), reserveChunk*memoryPerByte)
	rec = e.postMultipart(t, "/en/report", sent(words["message"]), []filePart{{"big.txt", "text/plain", bytes.Repeat([]byte("a"), 4*reserveChunk)}})
	holdMem()
	body := rec.Body.String()
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(body, htmlEscape(locales["en"].T("again_partial"))) {
		t.Errorf("memory ran out: %d\n%s", rec.Code, body)
	}
	kept(t, "memory ran out", body, "/en/report", map[string]string{"message": words["message"], "role": words["role"]})

	// Memory runs out before the message has arrived whole.
	e.srv.mem = newBudget(reserveChunk * memoryPerByte)
	holdMem, _ = e.srv.mem.acquire(t.Context(), reserveChunk*memoryPerByte)
	rec = e.postMultipart(t, "/en/report", sent(strings.Repeat("canary-unread-6610 ", 10000)), nil)
	holdMem()
	if body := rec.Body.String(); rec.Code != http.StatusServiceUnavailable || !strings.Contains(body, honest) || strings.Contains(body, "canary-unread-6610") {
		t.Errorf("memory ran out before the message was read: %d\n%s", rec.Code, body)
	}
	if n := e.items(t); n != 0 {
		t.Fatalf("refused reports stored %d items", n)
	}
}

// The words go back in the answer to the request that carried them and
// nowhere else: not into a header, a cookie, a log line or the data
// directory; for a refused file, and for a store that fails for real (it
// is closed under the server), whose failure is logged.
func TestRefusedWordsGoNowhereElse(t *testing.T) {
	e := newEnv(t, "")
	canaries := []string{"canary-refused-message-5512", "canary-refused-about-5512", "canary-refused-contact-5512"}
	code := receiptOf(t, e.postForm("/en/report", url.Values{"message": {"hello"}}).Body.String())
	report := [][2]string{{"message", canaries[0]}, {"about", canaries[1]}, {"contact", canaries[2]}}
	followUp := [][2]string{{"receipt", code}, {"message", canaries[0]}}
	check := func(what string, rec *httptest.ResponseRecorder, status int) {
		t.Helper()
		if rec.Code != status || !strings.Contains(rec.Body.String(), canaries[0]) {
			t.Fatalf("%s: %d, the words were not shown back:\n%s", what, rec.Code, rec.Body)
		}
		for k, vs := range rec.Header() {
			for _, f := range testkit.FindCanaries(what+": the header "+k, strings.Join(vs, " "), canaries) {
				t.Error(f)
			}
		}
		if rec.Header().Get("Set-Cookie") != "" || rec.Header().Get("Location") != "" || rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", what, rec.Header())
		}
	}
	check("a report with a refused file", e.postMultipart(t, "/en/report", report, []filePart{exe}), http.StatusUnsupportedMediaType)
	check("a follow-up with a refused file", e.postMultipart(t, "/en/check/add", followUp, []filePart{exe}), http.StatusUnsupportedMediaType)
	check("a report too long", e.postMultipart(t, "/en/report", [][2]string{{"message", canaries[0] + strings.Repeat(" x", maxMessageChars)}, {"contact", canaries[2]}}, nil), http.StatusBadRequest)

	e.store.Close()
	check("a report the store fails", e.postMultipart(t, "/en/report", report, nil), http.StatusInternalServerError)
	if !strings.Contains(e.logs.String(), "failed to store report") {
		t.Fatalf("the store's failure was not logged:\n%s", e.logs)
	}
	for _, f := range testkit.FindCanaries("the log", e.logs.String(), canaries) {
		t.Error(f)
	}
	found, files, err := testkit.FindCanariesInDir(e.dataDir, canaries)
	if err != nil || files == 0 {
		t.Fatalf("searching the data directory: %d files, %v", files, err)
	}
	for _, f := range found {
		t.Error(f)
	}
}

// The rest of a refused file is read and thrown away, so the form's later
// fields can be shown back, and it reserves no upload memory: a refused
// upload holds no more than an accepted one would.
func TestRefusedFileReservesNoMemory(t *testing.T) {
	e := newEnv(t, "")
	body, ct := browserForm(t, [][2]string{{"message", "hello"}},
		[]filePart{{"big.txt", "text/plain", bytes.Repeat([]byte("a"), 3*attach.MaxSize)}, exe},
		[][2]string{{"contact", "after the files"}})
	req := httptest.NewRequest(http.MethodPost, "/en/report", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	release, ok := e.srv.admit(httptest.NewRecorder(), req, "en")
	if !ok {
		t.Fatal("not admitted")
	}
	defer release()
	sub, ferr := parseSubmission(req)
	if ferr != errFileBig || sub.fields["contact"] != "after the files" || sub.sentFiles != 2 || len(sub.files) != 0 {
		t.Fatalf("parsed %v, %+v", ferr, sub)
	}
	m := req.Body.(*meteredBody)
	if limit := int64(attach.MaxSize+2*reserveChunk) * memoryPerByte; m.reserved > limit || m.read < 3*attach.MaxSize {
		t.Errorf("read %d bytes and reserved %d bytes of memory, want at most %d", m.read, m.reserved, limit)
	}
}

// A field too long to hold is not kept, so the form is not shown again as
// though it were: the error page answers, promising nothing. A browser's
// maxlength never sends one.
func TestUnheldFieldNotShownAgain(t *testing.T) {
	e := newEnv(t, "")
	for _, c := range []struct {
		what   string
		fields [][2]string
		ferr   *formError
	}{
		{"a message over four bytes a character", [][2]string{{"message", strings.Repeat("canary-unheld ", maxMessageChars)}}, errLongMessage},
		{"who it is about, over four bytes a character", [][2]string{{"message", "canary-unheld"}, {"about", strings.Repeat("a", 4*maxFieldChars+1)}}, errFieldBig},
	} {
		rec := e.postMultipart(t, "/en/report", c.fields, nil)
		body := rec.Body.String()
		if rec.Code != c.ferr.status || !strings.Contains(body, htmlEscape(locales["en"].T(c.ferr.key))) ||
			strings.Contains(body, "<form") || strings.Contains(body, "canary-unheld") {
			t.Errorf("%s: %d\n%s", c.what, rec.Code, body)
		}
	}
}
