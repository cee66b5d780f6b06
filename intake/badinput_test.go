package intake

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hearken-project/hearken/internal/attach"
)

// bigUpload streams a multipart form with n text files of size bytes each,
// without holding it all in the test's memory.
func bigUpload(n, size int) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("message", "files attached")
		chunk := bytes.Repeat([]byte("all work and no play\n"), 4096)
		for i := 0; i < n; i++ {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="file"; filename="notes.txt"`)
			h.Set("Content-Type", "text/plain")
			w, err := mw.CreatePart(h)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			for left := size; left > 0; {
				c := chunk
				if left < len(c) {
					c = c[:left]
				}
				if _, err := w.Write(c); err != nil {
					pw.CloseWithError(err)
					return
				}
				left -= len(c)
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	return pr, mw.FormDataContentType()
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, "")
	png := pngFile(t)
	small := filePart{"a.png", "image/png", png}

	type tc struct {
		name   string
		req    func() *http.Request
		status int
		key    string
	}
	multi := func(fields [][2]string, files []filePart) func() *http.Request {
		return func() *http.Request {
			body, ct := multipartBody(t, fields, files)
			req := httptest.NewRequest(http.MethodPost, "/en/report", body)
			req.Header.Set("Content-Type", ct)
			return req
		}
	}
	raw := func(ct, body string) func() *http.Request {
		return func() *http.Request {
			req := httptest.NewRequest(http.MethodPost, "/en/report", strings.NewReader(body))
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			return req
		}
	}
	msg := [][2]string{{"message", "hello"}}
	cases := []tc{
		{"oversized body", func() *http.Request {
			body, ct := bigUpload(6, attach.MaxSize)
			req := httptest.NewRequest(http.MethodPost, "/en/report", body)
			req.Header.Set("Content-Type", ct)
			return req
		}, 413, "again_too_big"},
		{"oversized urlencoded", raw("application/x-www-form-urlencoded", "message="+strings.Repeat("a", maxURLEncoded)), 413, "err_413"},
		{"malformed multipart", raw("multipart/form-data; boundary=XYZ", "--XYZ\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nhello\r\n--XY"), 400, "err_400"},
		{"multipart without boundary", raw("multipart/form-data", "x"), 400, "err_400"},
		{"json", raw("application/json", `{"message":"hello"}`), 415, "err_415"},
		{"no content type", raw("", "message=hello"), 415, "err_415"},
		{"invalid utf-8", multi([][2]string{{"message", "bad \xff\xfe text"}}, nil), 400, "err_bad_text"},
		{"invalid utf-8 urlencoded", raw("application/x-www-form-urlencoded", "message=%FF%FE"), 400, "err_bad_text"},
		{"message too long", multi([][2]string{{"message", strings.Repeat("é", maxMessageChars+1)}}, nil), 400, "again_message_long"},
		{"six attachments", multi(msg, []filePart{small, small, small, small, small, small}), 400, "again_too_many_files"},
		{"11 MiB file", multi(msg, []filePart{{"big.txt", "text/plain", bytes.Repeat([]byte("a"), 11<<20)}}), 413, "again_file_big"},
		{"content does not match type", multi(msg, []filePart{{"photo.png", "image/png", []byte("%PDF-1.4 not a png")}}), 400, "again_file_mismatch"},
		{"file type not taken", multi(msg, []filePart{{"run.exe", "application/octet-stream", []byte("MZ\x90\x00\x03binary")}}), 415, "again_file_type"},
		{"no message", multi([][2]string{{"about", "someone"}}, nil), 400, "again_message_missing"},
		{"blank message", raw("application/x-www-form-urlencoded", "message=+%0D%0A+"), 400, "again_message_missing"},
		{"honeypot filled", multi([][2]string{{"message", "hello"}, {"website", "http://spam.example"}}, nil), 400, "err_honeypot"},
		{"bad danger choice", raw("application/x-www-form-urlencoded", "message=hi&danger=maybe"), 400, "again_choice"},
		{"unknown field", raw("application/x-www-form-urlencoded", "message=hi&name=me"), 400, "err_400"},
		{"unknown field multipart", multi([][2]string{{"message", "hi"}, {"name", "me"}}, nil), 400, "err_400"},
		{"repeated field multipart", multi([][2]string{{"message", "hi"}, {"message", "again"}}, nil), 400, "err_400"},
		{"a text field sent as a file", raw("multipart/form-data; boundary=XYZ", "--XYZ\r\nContent-Disposition: form-data; name=\"message\"; filename=\"m.txt\"\r\n\r\nhello\r\n--XYZ--\r\n"), 400, "err_400"},
		{"message far over its bytes", multi([][2]string{{"message", strings.Repeat("a", maxMessageChars*4+1)}}, nil), 400, "err_message_long"},
		{"too many parts", raw(manyParts(maxParts + 1)), 400, "err_400"},
		{"malformed urlencoded", raw("application/x-www-form-urlencoded", "message=hi%zz"), 400, "err_400"},
		{"repeated field", raw("application/x-www-form-urlencoded", "message=hi&message=again"), 400, "err_400"},
		{"wrong method", func() *http.Request {
			return httptest.NewRequest(http.MethodPut, "/en/report", strings.NewReader("message=hi"))
		}, 405, "err_405"},
		{"follow-up without message", func() *http.Request {
			req := httptest.NewRequest(http.MethodPost, "/en/check/add", strings.NewReader("receipt=x"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req
		}, 400, "err_message_missing"},
		{"check with a file (the check form is url-encoded only)", func() *http.Request {
			body, ct := multipartBody(t, [][2]string{{"receipt", "x"}}, []filePart{small})
			req := httptest.NewRequest(http.MethodPost, "/en/check", body)
			req.Header.Set("Content-Type", ct)
			return req
		}, 415, "err_415"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := e.do(c.req())
			if rec.Code != c.status {
				t.Fatalf("status = %d, want %d\n%s", rec.Code, c.status, rec.Body)
			}
			checkPage(t, e, c.name, rec)
			if !strings.Contains(rec.Body.String(), htmlEscape(locales["en"].T(c.key))) {
				t.Errorf("page lacks the %s message", c.key)
			}
			if n := e.items(t); n != 0 {
				t.Fatalf("bad input stored %d items", n)
			}
		})
	}
	// The server keeps serving, and the most parts a form may have are taken.
	rec := e.postForm("/en/report", url.Values{"message": {"still working"}})
	receiptOf(t, rec.Body.String())
	ct, body := manyParts(maxParts)
	req := httptest.NewRequest(http.MethodPost, "/en/report", strings.NewReader(body))
	req.Header.Set("Content-Type", ct)
	receiptOf(t, e.do(req).Body.String())
}

func htmlEscape(s string) string {
	var b bytes.Buffer
	// The same escaping html/template applies to text.
	r := strings.NewReplacer(`&`, "&amp;", `'`, "&#39;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;")
	b.WriteString(r.Replace(s))
	return b.String()
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, "[limits]\nsubmissions_per_minute = 2\n")
	for i := 0; i < 2; i++ {
		receiptOf(t, e.postForm("/en/report", url.Values{"message": {"hi"}}).Body.String())
	}
	rec := e.postForm("/en/report", url.Values{"message": {"hi"}})
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("over the rate = %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	checkPage(t, e, "rate limited", rec)
	if n := e.items(t); n != 2 {
		t.Fatalf("items = %d, want 2", n)
	}
}

func TestBusy(t *testing.T) {
	e := newEnv(t, "[limits]\nmax_concurrent_submissions = 1\n")
	e.srv.queueWait = 50 * time.Millisecond
	hold, ok := e.srv.slots.acquire(t.Context(), 1)
	if !ok {
		t.Fatal("could not take the only slot")
	}
	rec := e.postForm("/en/report", url.Values{"message": {"hi"}})
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("no free slot = %d", rec.Code)
	}
	hold()
	// Upload memory: a request that cannot get its share waits, then 503.
	holdMem, _ := e.srv.mem.acquire(t.Context(), uploadMemory)
	rec = e.postForm("/en/report", url.Values{"message": {"hi"}})
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("no upload memory = %d", rec.Code)
	}
	holdMem()
	receiptOf(t, e.postForm("/en/report", url.Values{"message": {"hi"}}).Body.String())
}

// manyParts is a multipart report of a message and n-1 empty file parts
// (what a browser sends for a file input left empty): a flood of parts,
// each cheap, is refused as a whole.
func manyParts(n int) (string, string) {
	var b strings.Builder
	b.WriteString("--XYZ\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nhello\r\n")
	for range n - 1 {
		b.WriteString("--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n")
	}
	b.WriteString("--XYZ--\r\n")
	return "multipart/form-data; boundary=XYZ", b.String()
}
