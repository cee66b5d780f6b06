package intake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
	"github.com/rs/zerolog"
)

type staffFixture struct {
	store           *vault.Store
	alice, bob, eve *vault.Member
	teams           map[string]*vault.Team
	h               http.Handler
	logs            *bytes.Buffer
}

func newStaffFixture(t *testing.T) *staffFixture {
	t.Helper()
	st, err := vault.OpenStore(filepath.Join(t.TempDir(), "hearken.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &staffFixture{store: st, logs: &bytes.Buffer{}}
	for _, p := range []struct {
		m    **vault.Member
		name string
	}{{&f.alice, "Alice"}, {&f.bob, "Bob"}, {&f.eve, "Eve"}} {
		if *p.m, err = vault.GenerateMember(p.name); err != nil {
			t.Fatal(err)
		}
	}
	team := func(ms ...*vault.Member) *vault.Team {
		var lines []string
		for _, m := range ms {
			lines = append(lines, m.TeamLine())
		}
		tm, err := vault.ParseTeam(strings.NewReader(strings.Join(lines, "\n")))
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	// Alice and Bob share "students"; only Bob has "staff". Eve is nobody.
	f.teams = map[string]*vault.Team{"students": team(f.alice, f.bob), "staff": team(f.bob)}
	f.h = NewStaffHandler(st, f.teams, zerolog.New(f.logs))
	return f
}

func (f *staffFixture) report(t *testing.T, route, msg string) {
	t.Helper()
	e := &vault.Envelope{Fields: []vault.Field{{Name: "message", Value: msg}}}
	if _, err := f.store.CreateThread(route, e, f.teams[route].Recipients()); err != nil {
		t.Fatal(err)
	}
}

func signedReq(t *testing.T, m *vault.Member, method, path, query string, body []byte) *http.Request {
	t.Helper()
	u := path
	if query != "" {
		u += "?" + query
	}
	r := httptest.NewRequest(method, u, bytes.NewReader(body))
	sig, err := staff.Sign(m, method, path, query, time.Now(), body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range sig.Headers() {
		r.Header.Set(k, v)
	}
	return r
}

func (f *staffFixture) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func decodeJSON[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func (f *staffFixture) items(t *testing.T, m *vault.Member, query string) staff.ItemsResponse {
	t.Helper()
	return decodeJSON[staff.ItemsResponse](t, f.do(signedReq(t, m, "GET", staff.ItemsPath, query, nil)))
}

func wantUnauthorized(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != http.StatusUnauthorized || w.Body.String() != "unauthorized" {
		t.Fatalf("got %d %q, want 401 unauthorized", w.Code, w.Body)
	}
}

func TestStaffItemsByRoute(t *testing.T) {
	f := newStaffFixture(t)
	f.report(t, "students", "one")
	f.report(t, "staff", "two")
	f.report(t, "students", "three")

	a := f.items(t, f.alice, "")
	if len(a.Items) != 2 {
		t.Fatalf("alice sees %d items, want 2 (students only)", len(a.Items))
	}
	for _, it := range a.Items {
		if it.Route != "students" || it.Kind != vault.KindReport || !isUUIDish(it.ID) {
			t.Errorf("unexpected item %+v", it)
		}
		e, err := vault.Open(it.Sealed, f.alice.Identity())
		if err != nil {
			t.Fatal(err)
		}
		if e.ReplyTo == "" {
			t.Error("report has no reply recipient")
		}
	}
	b := f.items(t, f.bob, "")
	if len(b.Items) != 3 {
		t.Fatalf("bob sees %d items, want 3", len(b.Items))
	}
	// limit and cursor page through the queue: route by route, in the
	// order of their names, each in the order of arrival.
	var paged []staff.Item
	for query := "limit=1"; ; {
		p := f.items(t, f.bob, query)
		if len(p.Items) == 0 {
			if p.More || p.Next != "" {
				t.Fatalf("the end: more=%v next=%q", p.More, p.Next)
			}
			break
		}
		if len(p.Items) != 1 || !p.More || p.Next == "" {
			t.Fatalf("limit=1 gave %d items more=%v next=%q", len(p.Items), p.More, p.Next)
		}
		paged = append(paged, p.Items[0])
		query = "limit=1&cursor=" + p.Next
	}
	if len(paged) != 3 || paged[0].Route != "staff" || paged[1].ID != a.Items[0].ID || paged[2].ID != a.Items[1].ID {
		t.Fatalf("paged %+v", paged)
	}
	// A cursor is Bob's alone, and an old reviewer's "after" is refused
	// with a message that says what to do.
	p := f.items(t, f.bob, "limit=1")
	if w := f.do(signedReq(t, f.alice, "GET", staff.ItemsPath, "cursor="+p.Next, nil)); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "cursor") {
		t.Errorf("Bob's cursor used by Alice: %d %s", w.Code, w.Body)
	}
	if w := f.do(signedReq(t, f.bob, "GET", staff.ItemsPath, "after=0&limit=500", nil)); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "update reviewer") {
		t.Errorf("an old reviewer's request: %d %s", w.Code, w.Body)
	}
	if w := f.do(signedReq(t, f.bob, "GET", staff.ItemsPath, "limit=-1", nil)); w.Code != http.StatusBadRequest {
		t.Errorf("limit=-1: status %d", w.Code)
	}
	if w := f.do(signedReq(t, f.bob, "GET", staff.ItemsPath, "limit=100000", nil)); w.Code != http.StatusOK {
		t.Errorf("a large limit is capped, not refused: status %d", w.Code)
	}
}

func isUUIDish(s string) bool { _, err := uuid.Parse(s); return err == nil && len(s) == 36 }

func TestStaffUnauthorized(t *testing.T) {
	f := newStaffFixture(t)
	f.report(t, "students", "secret words")

	// No signature at all.
	wantUnauthorized(t, f.do(httptest.NewRequest("GET", staff.ItemsPath, nil)))
	// A member of no team.
	wantUnauthorized(t, f.do(signedReq(t, f.eve, "GET", staff.ItemsPath, "", nil)))
	// A signed query changed in transit.
	r := signedReq(t, f.alice, "GET", staff.ItemsPath, "limit=5", nil)
	r.URL.RawQuery = "limit=6"
	wantUnauthorized(t, f.do(r))
	// A replayed request.
	r = signedReq(t, f.alice, "GET", staff.ItemsPath, "", nil)
	if w := f.do(r); w.Code != http.StatusOK {
		t.Fatalf("first use: %d", w.Code)
	}
	r2 := httptest.NewRequest("GET", staff.ItemsPath, nil)
	r2.Header = r.Header.Clone()
	wantUnauthorized(t, f.do(r2))
	// A tampered body.
	body := []byte(`{"ids":[],"seqs":[]}`)
	r = signedReq(t, f.alice, "POST", staff.AcksPath, "", body)
	r.Body = httpBody(`{"ids":["x"],"seqs":[1]}`)
	wantUnauthorized(t, f.do(r))
	// A stale request.
	r = httptest.NewRequest("GET", staff.ItemsPath, nil)
	sig, _ := staff.Sign(f.alice, "GET", staff.ItemsPath, "", time.Now().Add(-6*time.Minute), nil)
	for k, v := range sig.Headers() {
		r.Header.Set(k, v)
	}
	wantUnauthorized(t, f.do(r))
	// An oversized body is refused before anything else.
	big := bytes.Repeat([]byte("a"), staffMaxAckBody+1)
	wantUnauthorized(t, f.do(signedReq(t, f.alice, "POST", staff.AcksPath, "", big)))

	logs := f.logs.String()
	for _, reason := range []string{"missing_header", "unknown_member", "bad_signature", "replay", "stale", "malformed"} {
		if !strings.Contains(logs, `"reason":"`+reason+`"`) {
			t.Errorf("logs do not count reason %s:\n%s", reason, logs)
		}
	}
	for _, secret := range []string{vault.FormatSigningKey(f.eve.SigningPublic()), vault.FormatSigningKey(f.alice.SigningPublic()),
		"after=", "192.0.2", "secret words"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, `"route":"/staff/v1/items"`) {
		t.Errorf("logs do not name the route pattern:\n%s", logs)
	}
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

func httpBody(s string) readCloser { return readCloser{strings.NewReader(s)} }

func TestStaffReplies(t *testing.T) {
	f := newStaffFixture(t)
	f.report(t, "students", "help")
	it := f.items(t, f.alice, "").Items[0]
	report, err := vault.Open(it.Sealed, f.alice.Identity())
	if err != nil {
		t.Fatal(err)
	}
	sealed := sealReply(t, f, report.ReplyTo, "we hear you")
	id := uuid.NewString()
	post := func(m *vault.Member, req staff.ReplyRequest) *httptest.ResponseRecorder {
		body, _ := json.Marshal(req)
		return f.do(signedReq(t, m, "POST", staff.RepliesPath, "", body))
	}
	r1 := decodeJSON[staff.ReplyResponse](t, post(f.alice, staff.ReplyRequest{Thread: it.Thread, ID: id, Sealed: sealed}))
	if r1.Item.ID != id || r1.Item.Kind != vault.KindReply || r1.Item.Thread != it.Thread {
		t.Fatalf("reply item %+v", r1.Item)
	}
	// The same id again is a no-op with the same answer.
	r2 := decodeJSON[staff.ReplyResponse](t, post(f.alice, staff.ReplyRequest{Thread: it.Thread, ID: id, Sealed: sealed}))
	if r2.Item.ID != r1.Item.ID || r2.Item.Day != r1.Item.Day || r2.Item.Route != r1.Item.Route {
		t.Errorf("retried reply got %+v, first %+v", r2.Item, r1.Item)
	}
	got := f.items(t, f.bob, "")
	replies := 0
	for _, x := range got.Items {
		if x.Kind == vault.KindReply {
			replies++
		}
	}
	if replies != 1 {
		t.Errorf("bob sees %d replies, want exactly 1", replies)
	}

	if w := post(f.alice, staff.ReplyRequest{Thread: uuid.NewString(), ID: uuid.NewString(), Sealed: sealed}); w.Code != http.StatusNotFound {
		t.Errorf("reply to an unknown thread: %d", w.Code)
	}
	if w := post(f.alice, staff.ReplyRequest{Thread: it.Thread, ID: "not-a-uuid", Sealed: sealed}); w.Code != http.StatusBadRequest {
		t.Errorf("bad id: %d", w.Code)
	}
	if w := post(f.alice, staff.ReplyRequest{Thread: it.Thread, ID: uuid.NewString(), Sealed: []byte("plain text")}); w.Code != http.StatusBadRequest {
		t.Errorf("unsealed reply: %d", w.Code)
	}
	big := append([]byte("age-encryption.org/v1\n"), bytes.Repeat([]byte("x"), vault.MaxReplySize)...)
	if w := post(f.alice, staff.ReplyRequest{Thread: it.Thread, ID: uuid.NewString(), Sealed: big}); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized reply: %d", w.Code)
	}
	if w := f.do(signedReq(t, f.alice, "POST", staff.RepliesPath, "", []byte(`{"thread":1}`))); w.Code != http.StatusBadRequest {
		t.Errorf("bad JSON: %d", w.Code)
	}
	// The reporter can read the reply with the receipt's identity: checked
	// by vault's own tests; here, the team can.
	if _, err := vault.Open(sealed, f.bob.Identity()); err != nil {
		t.Errorf("team member cannot open the reply: %v", err)
	}
}

func sealReply(t *testing.T, f *staffFixture, replyTo, text string) []byte {
	t.Helper()
	rcpt, err := parseHybrid(replyTo)
	if err != nil {
		t.Fatal(err)
	}
	rs := append(f.teams["students"].Recipients(), rcpt)
	sealed, err := vault.Seal(&vault.Envelope{Kind: vault.KindReply, Day: vault.Today(time.Now()),
		Fields: []vault.Field{{Name: "message", Value: text}}, Author: "Alice"}, rs...)
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

func TestStaffAcksQuorum(t *testing.T) {
	f := newStaffFixture(t)
	f.report(t, "students", "one")
	f.report(t, "staff", "two")
	all := f.items(t, f.bob, "").Items
	var students, staffRoute staff.Item
	for _, it := range all {
		if it.Route == "students" {
			students = it
		} else {
			staffRoute = it
		}
	}
	ack := func(m *vault.Member, items ...staff.Item) staff.AckResponse {
		req := staff.AckRequest{IDs: []string{}}
		for _, it := range items {
			req.IDs = append(req.IDs, it.ID)
		}
		body, _ := json.Marshal(req)
		return decodeJSON[staff.AckResponse](t, f.do(signedReq(t, m, "POST", staff.AcksPath, "", body)))
	}
	// Alice cannot acknowledge a staff-route item she never received.
	if r := ack(f.alice, staffRoute); r.Acked != 0 || len(r.Unknown) != 1 {
		t.Errorf("alice acked a staff item: %+v", r)
	}
	// Students' team has two members: Alice's ack (twice) leaves it queued.
	if r := ack(f.alice, students); r.Acked != 1 {
		t.Errorf("alice ack: %+v", r)
	}
	ack(f.alice, students)
	if n := len(f.items(t, f.bob, "").Items); n != 2 {
		t.Fatalf("after one of two acks bob sees %d items, want 2", n)
	}
	ack(f.bob, students)
	left := f.items(t, f.bob, "").Items
	if len(left) != 1 || left[0].ID != staffRoute.ID {
		t.Fatalf("after both acks: %+v", left)
	}
	// Staff's team is Bob alone.
	ack(f.bob, staffRoute)
	if n := len(f.items(t, f.bob, "").Items); n != 0 {
		t.Fatalf("queue holds %d items, want 0", n)
	}
	// Acknowledging again is harmless.
	if r := ack(f.bob, staffRoute); r.Acked != 1 || len(r.Unknown) != 0 {
		t.Errorf("second ack: %+v", r)
	}
	// Ids that are not uuids, and too many ids, are refused.
	body, _ := json.Marshal(staff.AckRequest{IDs: []string{"not-a-uuid"}})
	if w := f.do(signedReq(t, f.bob, "POST", staff.AcksPath, "", body)); w.Code != http.StatusBadRequest {
		t.Errorf("bad id: %d", w.Code)
	}
	many := staff.AckRequest{}
	for range staff.MaxAcks + 1 {
		many.IDs = append(many.IDs, students.ID)
	}
	body, _ = json.Marshal(many)
	if w := f.do(signedReq(t, f.bob, "POST", staff.AcksPath, "", body)); w.Code != http.StatusBadRequest && w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("too many ids: %d", w.Code)
	}
}

func TestStaffMethodAndPath(t *testing.T) {
	f := newStaffFixture(t)
	if w := f.do(signedReq(t, f.alice, "POST", staff.ItemsPath, "", nil)); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST items: %d", w.Code)
	}
	if w := f.do(signedReq(t, f.alice, "GET", "/staff/v1/other", "", nil)); w.Code != http.StatusNotFound {
		t.Errorf("unknown path: %d", w.Code)
	}
}

func parseHybrid(s string) (*age.HybridRecipient, error) { return age.ParseHybridRecipient(s) }
