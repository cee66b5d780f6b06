package intake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// A signed reply that cannot be kept is refused with a status and words a
// reviewer can act on, and changes nothing: a member may not reply into a
// thread of a route whose team does not list them (it answers as if there
// were no such thread), nor take a reply id another thread already uses,
// nor send an empty reply or JSON with more after it.
func TestStaffReplyRefusals(t *testing.T) {
	f := newStaffFixture(t)
	f.report(t, "students", "help")
	f.report(t, "staff", "a colleague")
	var students, staffItem staff.Item
	for _, it := range f.items(t, f.bob, "").Items {
		if it.Route == "students" {
			students = it
		} else {
			staffItem = it
		}
	}
	report, err := vault.Open(students.Sealed, f.alice.Identity())
	if err != nil {
		t.Fatal(err)
	}
	sealed := sealReply(t, f, report.ReplyTo, "we hear you")
	post := func(m *vault.Member, body []byte) *httptest.ResponseRecorder {
		return f.do(signedReq(t, m, "POST", staff.RepliesPath, "", body))
	}
	reply := func(m *vault.Member, req staff.ReplyRequest) *httptest.ResponseRecorder {
		body, _ := json.Marshal(req)
		return post(m, body)
	}
	used := uuid.NewString()
	if w := reply(f.alice, staff.ReplyRequest{Thread: students.Thread, ID: used, Sealed: sealed}); w.Code != http.StatusOK {
		t.Fatalf("a good reply: %d %s", w.Code, w.Body)
	}
	good, _ := json.Marshal(staff.ReplyRequest{Thread: students.Thread, ID: uuid.NewString(), Sealed: sealed})
	tests := []struct {
		name string
		m    *vault.Member
		body []byte
		code int
		want string
	}{
		{"another route's thread", f.alice, mustJSON(t, staff.ReplyRequest{Thread: staffItem.Thread, ID: uuid.NewString(), Sealed: sealed}),
			http.StatusNotFound, "this conversation no longer exists on the server"},
		{"an id another thread uses", f.bob, mustJSON(t, staff.ReplyRequest{Thread: staffItem.Thread, ID: used, Sealed: sealed}),
			http.StatusConflict, "this reply id is already used by another conversation"},
		{"empty", f.alice, mustJSON(t, staff.ReplyRequest{Thread: students.Thread, ID: uuid.NewString()}),
			http.StatusBadRequest, "the reply is empty"},
		{"trailing data", f.alice, append(append([]byte{}, good...), good...),
			http.StatusBadRequest, "the reply is not valid JSON of the expected shape"},
		{"unknown field", f.alice, []byte(`{"thread":"` + students.Thread + `","id":"` + uuid.NewString() + `","sealed":"","author":"x"}`),
			http.StatusBadRequest, "the reply is not valid JSON of the expected shape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := post(tt.m, tt.body)
			var e staff.ErrorResponse
			json.Unmarshal(w.Body.Bytes(), &e)
			if w.Code != tt.code || e.Error != tt.want {
				t.Fatalf("got %d %q, want %d %q", w.Code, w.Body, tt.code, tt.want)
			}
		})
	}
	// Nothing was added: one reply, on the students' thread.
	replies := 0
	for _, it := range f.items(t, f.bob, "").Items {
		if it.Kind == vault.KindReply {
			replies++
			if it.Thread != students.Thread || it.ID != used {
				t.Errorf("a refused reply was kept: %+v", it)
			}
		}
	}
	if replies != 1 {
		t.Fatalf("%d replies queued, want 1", replies)
	}
}

// A page cursor longer than any the server writes is refused before it is
// opened, as is a limit that is not a positive number.
func TestStaffItemsBadQuery(t *testing.T) {
	f := newStaffFixture(t)
	f.report(t, "students", "one")
	for query, want := range map[string]string{
		"cursor=" + strings.Repeat("A", staff.MaxCursor+1): "the page cursor is not valid: sync again from the beginning",
		"cursor=" + strings.Repeat("A", 40):                "the page cursor is not valid: sync again from the beginning",
		"limit=0":                                          "limit must be a positive number",
		"limit=" + url.QueryEscape("1e3"):                  "limit must be a positive number",
	} {
		w := f.do(signedReq(t, f.alice, "GET", staff.ItemsPath, query, nil))
		var e staff.ErrorResponse
		json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != http.StatusBadRequest || e.Error != want {
			t.Errorf("%.30s: got %d %s, want 400 %q", query, w.Code, w.Body, want)
		}
	}
}

// When the store fails, a staff request gets one generic 500 that names
// nothing, and the log says which route and operation failed and nothing
// of the member or the request.
func TestStaffStoreFailure(t *testing.T) {
	f := newStaffFixture(t)
	f.report(t, "students", "one")
	it := f.items(t, f.alice, "").Items[0]
	f.store.Close()
	ackBody, _ := json.Marshal(staff.AckRequest{IDs: []string{it.ID}})
	for name, r := range map[string]*http.Request{
		"items":  signedReq(t, f.alice, "GET", staff.ItemsPath, "", nil),
		"acks":   signedReq(t, f.alice, "POST", staff.AcksPath, "", ackBody),
		"resend": signedReq(t, f.alice, "POST", staff.ResendPath, "", nil),
		"reply": signedReq(t, f.alice, "POST", staff.RepliesPath, "", mustJSON(t, staff.ReplyRequest{
			Thread: it.Thread, ID: uuid.NewString(), Sealed: []byte("age-encryption.org/v1\n")})),
	} {
		f.logs.Reset()
		w := f.do(r)
		var e staff.ErrorResponse
		json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != http.StatusInternalServerError || e.Error != "the server could not complete this request; try again later" {
			t.Errorf("%s: got %d %s", name, w.Code, w.Body)
		}
		logs := f.logs.String()
		if !strings.Contains(logs, `"op":"`) || !strings.Contains(logs, `"route":"/staff/v1/`) || !strings.Contains(logs, "staff request failed") {
			t.Errorf("%s: the log does not say what failed: %s", name, logs)
		}
		for _, secret := range []string{it.ID, it.Thread, vault.FormatSigningKey(f.alice.SigningPublic()), "Alice"} {
			if strings.Contains(logs, secret) {
				t.Errorf("%s: the log names %q: %s", name, secret, logs)
			}
		}
	}
	// A member who asked for everything again and met a failure may ask
	// again at once: the failed attempt does not count.
	f.logs.Reset()
	if w := f.do(signedReq(t, f.alice, "POST", staff.ResendPath, "", nil)); w.Code != http.StatusInternalServerError {
		t.Errorf("resend after a failed resend: %d, want the store's 500 rather than 429", w.Code)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
