package intake

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// A full disk is the server being unable to take reports for a while, not a
// failure: 503 with Retry-After and the form back with the child's words,
// which never reach the disk or the log in the clear, and every receipt it
// showed before still finds its report. Tested on a real, small tmpfs.
func TestFullDisk(t *testing.T) {
	disk := testkit.MountTmpfs(t, 2<<20)
	dir := t.TempDir()
	cfg, err := loadConfig(writeConfig(t, dir, ""))
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(disk, "data")
	store, err := openStore(dataDir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { store.Close() }()
	e := &testEnv{cfg: cfg, store: store, srv: newServer(cfg, store, zerolog.New(&testkit.Buffer{})), logs: &testkit.Buffer{}, dataDir: dataDir}
	e.srv.log = zerolog.New(e.logs)
	// Fill most of the disk, so that reports fill the rest quickly.
	var st syscall.Statfs_t
	syscall.Statfs(disk, &st)
	if err := os.WriteFile(filepath.Join(disk, "filler"), make([]byte, int(st.Bavail)*int(st.Bsize)-300<<10), 0o600); err != nil {
		t.Fatal(err)
	}

	// Every report carries a canary: the one the full disk refuses comes
	// back to the child in its form, and none is ever written in the clear.
	const canary = "canary-full-disk-7731"
	message := canary + strings.Repeat(" a report that fills the disk", 100)
	var receipts []string
	full := false
	for i := 0; i < 400 && !full; i++ {
		rec := e.postMultipart(t, "/en/report", [][2]string{{"message", message}, {"about", canary + "-about"}}, nil)
		switch rec.Code {
		case 200:
			receipts = append(receipts, receiptOf(t, rec.Body.String()))
		case 503:
			full = true
			if ra := rec.Header().Get("Retry-After"); ra != "300" {
				t.Errorf("Retry-After %q on the full-disk answer, want 300", ra)
			}
			body := rec.Body.String()
			if strings.Contains(body, `id="receipt"`) || !strings.Contains(body, htmlEscape(locales["en"].T("again_full"))) {
				t.Errorf("full-disk page:\n%s", body)
			}
			kept(t, "a full disk", body, "/en/report", map[string]string{"message": message, "about": canary + "-about"})
		default:
			t.Fatalf("report %d: status %d, want 200 or 503\n%s", i, rec.Code, rec.Body.String())
		}
	}
	if !full || len(receipts) == 0 {
		t.Fatalf("%d receipts, full %v: the disk never filled, or filled at once", len(receipts), full)
	}
	// A follow-up gets the same answer, its words back in the thread's form.
	more := canary + strings.Repeat(" more words", 1500)
	rec := e.postMultipart(t, "/en/check/add", [][2]string{{"receipt", receipts[0]}, {"message", more}}, nil)
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "300" {
		t.Errorf("follow-up on a full disk: %d", rec.Code)
	}
	kept(t, "a follow-up on a full disk", rec.Body.String(), "/en/check/add", map[string]string{"message": more, "receipt": receipts[0]})
	// A team member's reply waits too: 503 with Retry-After.
	teams := map[string]*vault.Team{"safeguarding": cfg.Routes[0].Team}
	h := NewStaffHandler(store, teams, zerolog.New(e.logs))
	th, _ := store.Thread(mustReceipt(t, receipts[0]))
	sealed, err := vault.Seal(&vault.Envelope{Kind: vault.KindReply, Fields: []vault.Field{{Name: "message", Value: strings.Repeat("a reply ", 3000)}}}, cfg.Routes[0].Team.Recipients()...)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(staff.ReplyRequest{Thread: th.ID, ID: uuid.NewString(), Sealed: sealed})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, signedReq(t, member(t), "POST", staff.RepliesPath, "", body))
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Errorf("a reply on a full disk: %d %s", w.Code, w.Body)
	}
	// The reporter can still read the team's replies.
	if rec := e.postForm("/en/check", url.Values{"receipt": {receipts[0]}}); rec.Code != 200 {
		t.Errorf("checking a code on a full disk: %d", rec.Code)
	}
	if !strings.Contains(e.logs.String(), "the disk is full") {
		t.Errorf("the log does not say the disk is full:\n%s", e.logs.String())
	}
	// Every receipt shown still finds its report, now and after a restart.
	for _, code := range receipts {
		if _, err := store.Thread(mustReceipt(t, code)); err != nil {
			t.Fatalf("a receipt shown before the disk filled: %v", err)
		}
	}
	// With room again, reports are taken again, and the store reopens
	// whole, every receipt finding its report.
	os.Remove(filepath.Join(disk, "filler"))
	if rec := e.postForm("/en/report", url.Values{"message": {"after the disk was cleared"}}); rec.Code != 200 {
		t.Fatalf("after clearing the disk: %d", rec.Code)
	}
	store.Close()
	if store, err = openStore(dataDir, cfg); err != nil {
		t.Fatalf("reopening after the disk was full: %v", err)
	}
	for _, code := range receipts {
		if _, err := store.Thread(mustReceipt(t, code)); err != nil {
			t.Fatalf("after reopening: %v", err)
		}
	}
	for _, f := range testkit.FindCanaries("the log", e.logs.String(), []string{canary}) {
		t.Error(f)
	}
	found, files, err := testkit.FindCanariesInDir(disk, []string{canary})
	if err != nil || files == 0 {
		t.Fatalf("searching the disk: %d files, %v", files, err)
	}
	for _, f := range found {
		t.Error(f)
	}
	t.Logf("%d reports stored before the disk filled", len(receipts))
}

// The full-disk answer, through an injected ENOSPC: for machines where
// TestFullDisk cannot mount its tmpfs. A report whose words were read gets
// its form back with them; one refused before any was read gets the error
// page.
func TestStoreFullAnswer(t *testing.T) {
	e := newEnv(t, "")
	enospc := &os.PathError{Op: "write", Path: "hearken.db", Err: syscall.ENOSPC}
	for _, tc := range []struct {
		err         error
		status      int
		text, again string
	}{
		{fmt.Errorf("failed to store report: %w", fmt.Errorf("%w: %w", vault.ErrFull, enospc)), 503, "err_503_full", "again_full"},
		{errors.New("failed to store report: something else"), 500, "err_500", "again_500"},
	} {
		words := newSubmission()
		words.fields["message"] = "the words of the report"
		words.complete = true
		for _, sub := range []*submission{nil, words} {
			rec := httptest.NewRecorder()
			e.srv.refuseReport(rec, "ar", sub, e.srv.storeRefusal(rec, "failed to store report", tc.err))
			if rec.Code != tc.status || (tc.status == 503) != (rec.Header().Get("Retry-After") == "300") {
				t.Errorf("%v: %d, Retry-After %q", tc.err, rec.Code, rec.Header().Get("Retry-After"))
			}
			body := rec.Body.String()
			want := tc.text
			if sub != nil {
				want = tc.again
				if !strings.Contains(body, "the words of the report</textarea>") {
					t.Errorf("%d: the form shown again lost the words:\n%s", tc.status, body)
				}
			}
			if !strings.Contains(body, locales["ar"].Text[want]) {
				t.Errorf("%d page does not say %s:\n%s", tc.status, want, body)
			}
		}
	}
}

func mustReceipt(t *testing.T, code string) vault.Receipt {
	t.Helper()
	r, err := vault.ParseReceipt(code)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
