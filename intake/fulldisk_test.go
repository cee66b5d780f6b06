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
// failure: 503 with Retry-After and "nothing was saved", and every receipt
// it showed before still finds its report. Tested on a real, small tmpfs.
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

	var receipts []string
	full := false
	for i := 0; i < 400 && !full; i++ {
		rec := e.postForm("/en/report", url.Values{"message": {strings.Repeat("a report that fills the disk ", 100)}})
		switch rec.Code {
		case 200:
			receipts = append(receipts, receiptOf(t, rec.Body.String()))
		case 503:
			full = true
			if ra := rec.Header().Get("Retry-After"); ra == "" {
				t.Error("no Retry-After on the full-disk answer")
			}
			if body := rec.Body.String(); !strings.Contains(body, "Nothing was saved") || strings.Contains(body, `id="receipt"`) {
				t.Errorf("full-disk page:\n%s", body)
			}
		default:
			t.Fatalf("report %d: status %d, want 200 or 503\n%s", i, rec.Code, rec.Body.String())
		}
	}
	if !full || len(receipts) == 0 {
		t.Fatalf("%d receipts, full %v: the disk never filled, or filled at once", len(receipts), full)
	}
	// A follow-up gets the same answer.
	rec := e.postForm("/en/check/add", url.Values{"receipt": {receipts[0]}, "message": {strings.Repeat("more words ", 1500)}})
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Errorf("follow-up on a full disk: %d", rec.Code)
	}
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
	t.Logf("%d reports stored before the disk filled", len(receipts))
}

// The full-disk answer, through an injected ENOSPC: for machines where
// TestFullDisk cannot mount its tmpfs.
func TestStoreFullAnswer(t *testing.T) {
	e := newEnv(t, "")
	enospc := &os.PathError{Op: "write", Path: "hearken.db", Err: syscall.ENOSPC}
	for _, tc := range []struct {
		err    error
		status int
		text   string
	}{
		{fmt.Errorf("failed to store report: %w", fmt.Errorf("%w: %w", vault.ErrFull, enospc)), 503, "err_503_full"},
		{errors.New("failed to store report: something else"), 500, "err_500"},
	} {
		rec := httptest.NewRecorder()
		e.srv.storeFailed(rec, "ar", "failed to store report", tc.err)
		if rec.Code != tc.status || (tc.status == 503) != (rec.Header().Get("Retry-After") == "300") {
			t.Errorf("%v: %d, Retry-After %q", tc.err, rec.Code, rec.Header().Get("Retry-After"))
		}
		if !strings.Contains(rec.Body.String(), locales["ar"].Text[tc.text]) {
			t.Errorf("%d page does not say nothing was saved:\n%s", tc.status, rec.Body.String())
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
