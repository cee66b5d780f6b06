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
// one of the form errors, keeping at most what was read before the refusal,
// as bounded. It never panics.
func FuzzParseForm(f *testing.F) {
	body, ct := multipartBody(f, [][2]string{{"message", "hello"}, {"danger", "no"}},
		[]filePart{{"note.txt", "text/plain", []byte("plain words")}})
	f.Add(ct, body.(*bytes.Buffer).Bytes())
	body, ct = multipartBody(f, [][2]string{{"message", "hello"}},
		[]filePart{{"run.exe", "application/octet-stream", []byte("MZ\x90")}, {"note.txt", "text/plain", []byte("plain words")}})
	f.Add(ct, body.(*bytes.Buffer).Bytes())
	f.Add("application/x-www-form-urlencoded", []byte("message=hi&about=me"))
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nhi\r\n--x--\r\n"))
	f.Add("text/plain", []byte("message=hi"))
	f.Fuzz(func(t *testing.T, contentType string, data []byte) {
		req := httptest.NewRequest(http.MethodPost, "/en/report", bytes.NewReader(data))
		req.Header.Set("Content-Type", contentType)
		sub, ferr := parseForm(req)
		if ferr != nil && (ferr.status < 400 || ferr.status > 499) {
			t.Fatalf("refusal %v with status %d", ferr, ferr.status)
		}
		if sub == nil {
			if ferr == nil {
				t.Fatal("neither a form nor a refusal")
			}
			return
		}
		for name, v := range sub.fields {
			limit, ok := fieldLimits[name]
			if name == "message" && ferr == errLongMessage {
				limit = 4 * maxMessageChars // kept to be shown back, as read
			}
			if !ok || !utf8.ValidString(v) || utf8.RuneCountInString(v) > limit {
				t.Fatalf("field %q kept out of bounds", name)
			}
		}
		if len(sub.files) > maxAttachments || ferr != nil && len(sub.files) > 0 && sub.problem != nil {
			t.Fatal("too many files kept")
		}
		for _, a := range sub.files {
			if len(a.Data) > attach.MaxSize {
				t.Fatal("oversized file accepted")
			}
		}
	})
}
