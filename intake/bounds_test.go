package intake

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// A multipart part whose header runs on and on is refused once it passes a
// few KiB: mime/multipart alone would read up to 10 MiB of it into memory,
// and a few hundred such requests held the server's memory hostage.
func TestMultipartPartHeaderBounded(t *testing.T) {
	e := newEnv(t, "[limits]\nsubmissions_per_minute = 100000\n")
	rec := e.postForm("/en/report", url.Values{"message": {"hello"}})
	code := receiptOf(t, rec.Body.String())
	for _, size := range []int{maxPartHeader + 4<<10, 1 << 20} {
		for _, path := range []string{"/en/report", "/en/check/add"} {
			var body bytes.Buffer
			fmt.Fprintf(&body, "--B\r\nContent-Disposition: form-data; name=\"receipt\"\r\n\r\n%s\r\n", code)
			fmt.Fprintf(&body, "--B\r\nContent-Disposition: form-data; name=\"message\"\r\nX-Padding: %s\r\n\r\nhello\r\n--B--\r\n", strings.Repeat("a", size))
			req := httptest.NewRequest(http.MethodPost, path, &body)
			req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
			if got := e.do(req).Code; got != http.StatusRequestEntityTooLarge {
				t.Errorf("%s with a %d-byte part header: %d, want 413", path, size, got)
			}
		}
	}
	// A browser's part headers are far below the bound.
	rec = e.postMultipart(t, "/en/report", [][2]string{{"message", "hello"}}, []filePart{{"photo.png", "image/png", pngFile(t)}})
	if rec.Code != http.StatusOK {
		t.Fatalf("an ordinary multipart report: %d", rec.Code)
	}
}

// /check takes the small url-encoded form it shows, and nothing else.
func TestCheckTakesASmallFormOnly(t *testing.T) {
	e := newEnv(t, "")
	rec := e.postForm("/en/report", url.Values{"message": {"hello"}})
	code := receiptOf(t, rec.Body.String())
	if rec := e.postForm("/en/check", url.Values{"receipt": {code}}); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `class="hint"`) {
		t.Fatalf("the check form: %d", rec.Code)
	}
	if rec := e.postMultipart(t, "/en/check", [][2]string{{"receipt", code}}, nil); rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("multipart check: %d, want 415", rec.Code)
	}
	big := url.Values{"receipt": {code + strings.Repeat(" ", maxCheckBody)}}
	if rec := e.postForm("/en/check", big); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("a check body over %d bytes: %d, want 413", maxCheckBody, rec.Code)
	}
}
