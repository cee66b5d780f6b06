package intake

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"unicode/utf8"

	"github.com/hearken-project/hearken/internal/attach"
)

// FuzzParseForm: any body under any content type either parses into known,
// valid, bounded fields and at most maxAttachments files, or is refused with
// one of the form errors. It never panics.
func FuzzParseForm(f *testing.F) {
	body, ct := multipartBody(f, [][2]string{{"message", "hello"}, {"danger", "no"}},
		[]filePart{{"note.txt", "text/plain", []byte("plain words")}})
	f.Add(ct, body.(*bytes.Buffer).Bytes())
	f.Add("application/x-www-form-urlencoded", []byte("message=hi&about=me"))
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nhi\r\n--x--\r\n"))
	f.Add("text/plain", []byte("message=hi"))
	f.Fuzz(func(t *testing.T, contentType string, data []byte) {
		req := httptest.NewRequest(http.MethodPost, "/en/report", bytes.NewReader(data))
		req.Header.Set("Content-Type", contentType)
		sub, ferr := parseForm(req)
		if ferr != nil {
			if sub != nil || ferr.status < 400 || ferr.status > 499 {
				t.Fatalf("refusal %v with status %d", ferr, ferr.status)
			}
			return
		}
		for name, v := range sub.fields {
			limit, ok := fieldLimits[name]
			if !ok || !utf8.ValidString(v) || utf8.RuneCountInString(v) > limit {
				t.Fatalf("field %q accepted out of bounds", name)
			}
		}
		if len(sub.files) > maxAttachments {
			t.Fatal("too many files accepted")
		}
		for _, a := range sub.files {
			if len(a.Data) > attach.MaxSize {
				t.Fatal("oversized file accepted")
			}
		}
	})
}
