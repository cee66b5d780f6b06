package desk

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/vault"
)

// TestInbox lists every case linked by its number, danger and unanswered
// first, with the filters and the link to the statistics.
func TestInbox(t *testing.T) {
	f := newFixture(t)
	f.report("message", "they keep calling me names", "danger", "no")
	f.report("message", "he said he would hurt her tonight", "danger", "yes")
	third := f.report("message", "nothing urgent, a broken window")
	f.item(third, vault.KindFollowUp, f.daysAgo(5), nil, "message", "also the door")
	f.open()
	rec := f.get("/")
	wantBody(t, rec, http.StatusOK,
		`href="/case/HK-0000-0001"`, `href="/case/HK-0000-0002"`, `href="/case/HK-0000-0003"`, `href="/stats"`,
		`1 report says someone may be in danger now`,
		`(?s)HK-0000-0002.*Danger now.*HK-0000-0001`, `Waiting 8 days`, `name="q"`, `Showing 3 cases`)
	// Triaged and closed cases leave the default view; filters find them.
	f.follow(f.post("/case/HK-0000-0003/triage", url.Values{"status": {"closed"}, "category": {"other"}}))
	f.follow(f.post("/case/HK-0000-0001/triage", url.Values{"category": {"bullying"}, "assign": {"Sam Deputy"}}))
	for q, want := range map[string][]string{
		"/":                           {"HK-0000-0001", "HK-0000-0002"},
		"/?status=all":                {"HK-0000-0001", "HK-0000-0002", "HK-0000-0003"},
		"/?status=closed":             {"HK-0000-0003"},
		"/?category=bullying":         {"HK-0000-0001"},
		"/?category=none":             {"HK-0000-0002"},
		"/?danger=1":                  {"HK-0000-0002"},
		"/?assigned=Sam+Deputy":       {"HK-0000-0001"},
		"/?assigned=nobody":           {"HK-0000-0002"},
		"/?unanswered=1&status=all":   {"HK-0000-0001", "HK-0000-0002", "HK-0000-0003"},
		"/?route=students&status=all": {"HK-0000-0001", "HK-0000-0002", "HK-0000-0003"},
		"/?route=head":                {},
		"/?q=HURT+tonight":            {"HK-0000-0002"},
		"/?q=door&status=all":         {"HK-0000-0003"}, // a follow-up's words
		"/?q=names+tonight":           {},
		"/?status=all&q=sam":          {"HK-0000-0001"}, // the chronology's words
	} {
		body := f.get(q).Body.String()
		for _, c := range []string{"HK-0000-0001", "HK-0000-0002", "HK-0000-0003"} {
			has := strings.Contains(body, `href="/case/`+c+`"`)
			if has != contains(want, c) {
				t.Errorf("%s: %s listed %v, want %v", q, c, has, want)
			}
		}
	}
	// A note's words are found once it is written.
	f.follow(f.post("/case/HK-0000-0002/note", url.Values{"note": {"Called the police at 10:40"}}))
	if !strings.Contains(f.get("/?q=police").Body.String(), `href="/case/HK-0000-0002"`) {
		t.Error("search missed a new note")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestInboxEmpty explains what to do before the first sync, and with no
// server set.
func TestInboxEmpty(t *testing.T) {
	f := newFixture(t)
	os.Remove(filepath.Join(f.dir, "config.toml"))
	f.login()
	if err := f.d.Unlock(passphrase); err != nil {
		t.Fatal(err)
	}
	wantBody(t, f.get("/"), http.StatusOK, "no cases on this computer yet", "reviewer init --server")
	f.post("/sync", nil)
	f.d.syncer.wait()
	wantBody(t, f.get("/sync"), http.StatusOK, "does not know your school")
}

func pngBytes(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := 0; x < 40; x++ {
		for y := 0; y < 30; y++ {
			img.Set(x, y, color.RGBA{200, 80, 60, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestCasePage labels every item by kind and author, shows pictures
// inline and offers other files for download with a warning.
func TestCasePage(t *testing.T) {
	f := newFixture(t)
	th := threadN(1)
	pic := pngBytes(t)
	f.item(th, vault.KindReport, f.daysAgo(8), []vault.Attachment{
		{Name: "attachment-1.png", Type: "image/png", Cleaned: true, Data: pic},
		{Name: "evil.exe", Type: "application/pdf", Data: []byte("%PDF-1.4 not really")},
	}, "message", "look at <this>", "about", "a year 9 boy", "language", "en")
	f.item(th, vault.KindFollowUp, f.daysAgo(7), nil, "message", "it happened again")
	f.item(th, vault.KindReply, f.daysAgo(6), nil, "message", "We are on it.")
	f.open()
	rec := f.get("/case/HK-0000-0001")
	wantBody(t, rec, http.StatusOK,
		`<h3 id="item-1">Report</h3>`, `From the reporter`, `What happened`, `look at &lt;this&gt;`, `Who it is about`,
		`Follow-up from the reporter`, `Reply from the team`, `By Sam Deputy`,
		`<img src="/case/HK-0000-0001/file/0/0" alt="Picture sent with this report`,
		`Files from someone you do not know can harm your computer`,
		`Save a copy as HK-0000-0001-1-2.pdf`, `Identifying details`,
		`name="message"`, `report received`, `follow-up received`, `Save triage`, `Open the printable record`)
	notBody(t, rec, `evil`, `<this>`, `<img src="/case/HK-0000-0001/file/0/1"`, `class="tag"`)

	img := f.get("/case/HK-0000-0001/file/0/0")
	if img.Code != 200 || img.Header().Get("Content-Type") != "image/png" || !bytes.Equal(img.Body.Bytes(), pic) ||
		img.Header().Get("Content-Disposition") != `inline; filename="HK-0000-0001-1-1.png"` ||
		img.Header().Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(img.Header().Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("picture: %d %v", img.Code, img.Header())
	}
	if rec := f.get("/case/HK-0000-0001/file/0/1"); rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("a PDF shown inline: %d", rec.Code)
	}
	for _, p := range []string{"/case/HK-0000-0001/file/0/9", "/case/HK-0000-0001/file/x/0", "/case/HK-0000-0009/file/0/0", "/case/HK-0000-0001/file/1/0"} {
		if rec := f.get(p); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
	dl := f.post("/case/HK-0000-0001/file/0/1", nil)
	if dl.Code != 200 || dl.Header().Get("Content-Disposition") != `attachment; filename="HK-0000-0001-1-2.pdf"` ||
		dl.Header().Get("Content-Type") != "application/octet-stream" || dl.Body.String() != "%PDF-1.4 not really" {
		t.Errorf("download: %d %v", dl.Code, dl.Header())
	}
	wantBody(t, f.get("/case/HK-0000-0001"), 200, `attachment HK-0000-0001-1-2.pdf saved to this computer from the desk`)
	wantBody(t, f.get("/case/HK-0000-0009"), http.StatusNotFound, "no such case")
	wantBody(t, f.get("/case/banana"), http.StatusNotFound, "no such case")
}

// TestTriageAndNotes changes triage (recorded in the chronology), adds a
// note and a correction, and refuses bad values without changing anything.
func TestTriageAndNotes(t *testing.T) {
	f := newFixture(t)
	f.report("message", "my friend is scared of a teacher")
	f.open()
	rec := f.follow(f.post("/case/HK-0000-0001/triage", url.Values{"status": {"new"}, "category": {"concern about an adult"}, "urgency": {"high"}, "assign": {"Dana Lead"}}))
	wantBody(t, rec, 200, "Triage saved", `category: \(none\) → concern about an adult`, `urgency: \(none\) → high`,
		`assigned to: \(none\) → Dana Lead`, "status: new → triaged", "the allegations protocol", "Do not investigate")
	rec = f.post("/case/HK-0000-0001/triage", url.Values{"urgency": {"urgent"}})
	wantBody(t, rec, http.StatusBadRequest, "Triage not saved", "not a urgency|not an urgency")
	// Clearing the name assigns nobody.
	wantBody(t, f.follow(f.post("/case/HK-0000-0001/triage", url.Values{"assign": {""}})), 200, `assigned to: Dana Lead →`)

	rec = f.follow(f.post("/case/HK-0000-0001/note", url.Values{"note": {"Spoke to the head."}}))
	// Two triage changes, then the note: the third entry of the case's
	// shared record.
	wantBody(t, rec, 200, "Note added", "Spoke to the head.", `<option value="3">corrects entry 3 \(note`)
	rec = f.follow(f.post("/case/HK-0000-0001/note", url.Values{"note": {"It was the deputy head."}, "corrects": {"3"}}))
	wantBody(t, rec, 200, "correction to entry 3", "It was the deputy head.", "Spoke to the head.")
	wantBody(t, f.post("/case/HK-0000-0001/note", url.Values{"note": {"  "}}), http.StatusBadRequest, "Note not added: the note is empty")
	wantBody(t, f.post("/case/HK-0000-0001/note", url.Values{"note": {"x"}, "corrects": {"99"}}), http.StatusBadRequest, "entry 99 is not in")
	wantBody(t, f.post("/case/HK-0000-0001/note", url.Values{"note": {"kept text"}, "corrects": {"x"}}), http.StatusBadRequest, "kept text")
}

// TestGuidance shows the default guidance for sextortion, and a school's
// own file in its place.
func TestGuidance(t *testing.T) {
	f := newFixture(t)
	f.report("message", "someone is threatening to share my photos")
	f.report("message", "people laugh at me")
	f.open()
	f.follow(f.post("/case/HK-0000-0001/triage", url.Values{"category": {"online exploitation or sextortion"}}))
	wantBody(t, f.get("/case/HK-0000-0001"), 200, "Online exploitation or sextortion: what to do now",
		"Keep the evidence", "Do not view, forward, copy", "Do not confront", "Take It Down", "hotline")
	f.follow(f.post("/case/HK-0000-0002/triage", url.Values{"category": {"bullying"}}))
	notBody(t, f.get("/case/HK-0000-0002"), `class="guidance"`)
	dir := filepath.Join(f.dir, "guidance", "en")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "bullying.txt"), []byte("# Our bullying steps\nTalk to the form tutor <b>today</b>.\n\n- one\n- two\n  continued\n"), 0o600)
	wantBody(t, f.get("/case/HK-0000-0002"), 200, `<h2 id="guidance-title">Our bullying steps</h2>`, "Talk to the form tutor &lt;b&gt;today&lt;/b&gt;.", "<li>two continued</li>")
}

// TestReply previews a reply without saving it, then sends it: sealed to
// the reporter, pushed by a sync, and shown as sent.
func TestReply(t *testing.T) {
	f := newFixture(t)
	f.report("message", "please help")
	f.open()
	rec := f.post("/case/HK-0000-0001/reply", url.Values{"message": {"Thank you for telling us.\nWe will help."}, "action": {"preview"}})
	wantBody(t, rec, 200, "Preview: what the reporter will see", "From Dana Lead on "+vault.Today(f.now()), "Thank you for telling us.\nWe will help.",
		`value="send">Send to the reporter`, `(?s)<textarea id="message" name="message"[^>]*>Thank you`)
	if cv, _ := f.d.open.st.Show(1); len(cv.Messages) != 1 {
		t.Fatal("a preview saved a reply")
	}
	wantBody(t, f.post("/case/HK-0000-0001/reply", url.Values{"message": {" "}, "action": {"send"}}), http.StatusBadRequest, "the reply is empty")
	rec = f.post("/case/HK-0000-0001/reply", url.Values{"message": {"Thank you for telling us.\nWe will help."}, "action": {"send"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("send: %d %s", rec.Code, rec.Body)
	}
	f.d.syncer.wait()
	wantBody(t, f.follow(rec), 200, "Reply saved", "Reply from the team", "By Dana Lead", "Sent")
	f.srv.mu.Lock()
	replies := f.srv.replies
	f.srv.mu.Unlock()
	if len(replies) != 1 {
		t.Fatalf("%d replies pushed", len(replies))
	}
	e, err := vault.Open(replies[0].Sealed, f.reply)
	if err != nil || e.Field("message") != "Thank you for telling us.\nWe will help." || e.Author != "Dana Lead" {
		t.Errorf("the reporter reads %v, %v", e, err)
	}
	wantBody(t, f.get("/"), 200, "Answered")
}

// TestRecord shows the printable record, the same document as reviewer
// export, allows its own style by hash only, and notes that it was opened.
func TestRecord(t *testing.T) {
	f := newFixture(t)
	f.report("message", "a <script>alert(1)</script> test")
	f.open()
	want, err := f.d.open.st.Record(1)
	if err != nil {
		t.Fatal(err)
	}
	rec := f.post("/case/HK-0000-0001/record", nil)
	wantBody(t, rec, 200, "<title>Safeguarding case record HK-0000-0001</title>", "a &lt;script&gt;alert",
		`HK-0000-0001 \(the same number on every lead's computer\)`)
	// Case numbers are the team's since issue 13: the record calls the
	// number no longer this computer's, nor shows the old thread tag.
	notBody(t, rec, "this computer", "tag for it")
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "style-src 'sha256-") || strings.Contains(csp, "unsafe") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("record CSP %q", csp)
	}
	if !bytes.Equal(rec.Body.Bytes(), want) {
		t.Error("the desk's record differs from reviewer export's")
	}
	wantBody(t, f.get("/case/HK-0000-0001"), 200, "case record opened in the desk, to print or save for a referral")
}

// TestSyncPage starts a sync from the button and shows what it did.
func TestSyncPage(t *testing.T) {
	f := newFixture(t)
	f.open()
	f.report("message", "a new one")
	rec := f.post("/sync", nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/sync" {
		t.Fatalf("sync: %d", rec.Code)
	}
	f.d.syncer.wait()
	wantBody(t, f.get("/sync"), 200, "Last synced today at", "1 new report")
	wantBody(t, f.get("/"), 200, "Last synced today at [0-9:]+: 1 new case, 1 new message", `href="/case/HK-0000-0001"`)
}
