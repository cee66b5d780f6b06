package intake

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/vault"
)

var (
	memberOnce sync.Once
	testMember *vault.Member
	memberErr  error
)

// member returns one generated team member shared by the tests.
func member(t testing.TB) *vault.Member {
	t.Helper()
	memberOnce.Do(func() { testMember, memberErr = vault.GenerateMember("Sam Lead") })
	if memberErr != nil {
		t.Fatal(memberErr)
	}
	return testMember
}

type testEnv struct {
	cfg     *config
	store   *vault.Store
	srv     *server
	logs    *testkit.Buffer
	dataDir string
}

// writeConfig writes a complete config and team file into dir and returns
// the config path.
func writeConfig(t testing.TB, dir, extra string) string {
	t.Helper()
	team := "# test team\n" + member(t).TeamLine() + "\n"
	if err := os.WriteFile(filepath.Join(dir, "team.txt"), []byte(team), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := `school = "Hillside School"
default_language = "en"
languages = ["en", "es", "fr", "ar", "zh"]
quick_exit_url = "https://www.bbc.co.uk/weather"
` + extra + `

[[emergency.en]]
name = "Police and ambulance"
phone = "999"

[[emergency.en]]
name = "Childline"
phone = "0800 1111"
url = "https://www.childline.org.uk/"

[[emergency.es]]
name = "Policía"
phone = "112"

[[routes]]
name = "safeguarding"
team = "team.txt"
[routes.labels]
en = "The safeguarding team"
`
	p := filepath.Join(dir, "intake.toml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func newEnv(t testing.TB, extra string) *testEnv {
	t.Helper()
	dir := t.TempDir()
	cfg, err := loadConfig(writeConfig(t, dir, extra))
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	store, err := openStore(dataDir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	logs := &testkit.Buffer{}
	srv := newServer(cfg, store, zerolog.New(logs))
	return &testEnv{cfg: cfg, store: store, srv: srv, logs: logs, dataDir: dataDir}
}

func (e *testEnv) do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec
}

func (e *testEnv) get(path string) *httptest.ResponseRecorder {
	return e.do(httptest.NewRequest(http.MethodGet, path, nil))
}

func (e *testEnv) postForm(path string, vals url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(req)
}

// threads counts the items waiting for the team: every stored report or
// follow-up is one.
func (e *testEnv) items(t testing.TB) int {
	t.Helper()
	items, _, err := e.store.Pending("", 1000, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return len(items)
}

type filePart struct {
	name, contentType string
	data              []byte
}

// multipartBody builds a form the way a browser does.
func multipartBody(t testing.TB, fields [][2]string, files []filePart) (io.Reader, string) {
	t.Helper()
	raw, ct := browserForm(t, fields, files, nil)
	return bytes.NewBuffer(raw), ct
}

// browserForm builds a multipart form in a browser's order: fields, then
// files, then more fields.
func browserForm(t testing.TB, before [][2]string, files []filePart, after [][2]string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	writeFields := func(fields [][2]string) {
		for _, f := range fields {
			if err := mw.WriteField(f[0], f[1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	writeFields(before)
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+f.name+`"`)
		h.Set("Content-Type", f.contentType)
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	writeFields(after)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

func (e *testEnv) postMultipart(t testing.TB, path string, fields [][2]string, files []filePart) *httptest.ResponseRecorder {
	body, ct := multipartBody(t, fields, files)
	req := httptest.NewRequest(http.MethodPost, path, body)
	req.Header.Set("Content-Type", ct)
	return e.do(req)
}

// receiptOf pulls the code out of a receipt page.
func receiptOf(t testing.TB, body string) string {
	t.Helper()
	const open = `<strong id="receipt">`
	i := strings.Index(body, open)
	if i < 0 {
		t.Fatalf("no receipt on the page:\n%s", body)
	}
	rest := body[i+len(open):]
	code := strings.ReplaceAll(rest[:strings.Index(rest, "</strong>")], "<wbr>", "")
	if _, err := vault.ParseReceipt(code); err != nil {
		t.Fatalf("receipt on the page does not parse: %v", err)
	}
	return code
}
