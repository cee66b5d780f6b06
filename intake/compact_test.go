package intake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// staffCall sends a signed staff request over the unix socket sock.
func staffCall(t *testing.T, sock string, m *vault.Member, method, path, query string, body []byte, out any) {
	t.Helper()
	u := "http://staff" + path
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := staff.Sign(m, method, path, query, time.Now(), body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range sig.Headers() {
		req.Header.Set(k, v)
	}
	resp, err := testkit.UnixClient(sock).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// The live store's pages lie in the order they were written, so a copy of
// it shows in what order the day's reports arrived, until the file is
// rewritten. Once the team has fetched everything on a route (its queue
// drains) the server rewrites it, and a copy shows the order of no report
// the team has (issue 8.5).
func TestCompactWhenQueueDrains(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "staff.sock")
	cfg, err := loadConfig(writeConfig(t, dir, ""))
	if err != nil {
		t.Fatal(err)
	}
	ls := runServerOpts(t, cfg, filepath.Join(dir, "data"), "127.0.0.1:0", "unix:"+sock, func(o *serveOptions) { o.drainDelay = time.Nanosecond })
	db := filepath.Join(ls.dataDir, storeFile)

	const n = 12
	for i := range n {
		resp, err := http.PostForm(ls.url("/en/report"), url.Values{"message": {"report number " + strings.Repeat("x", i)}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("report: %d", resp.StatusCode)
		}
	}
	var page staff.ItemsResponse
	staffCall(t, sock, member(t), "GET", staff.ItemsPath, "", nil, &page)
	if len(page.Items) != n {
		t.Fatalf("%d items", len(page.Items))
	}
	before := inode(t, db)
	// Acknowledging all but one leaves the queue waiting; the last empties it.
	var ids []string
	for _, it := range page.Items {
		ids = append(ids, it.ID)
	}
	var resp staff.AckResponse
	body, _ := json.Marshal(staff.AckRequest{IDs: ids[:n-1]})
	staffCall(t, sock, member(t), "POST", staff.AcksPath, "", body, &resp)
	body, _ = json.Marshal(staff.AckRequest{IDs: ids[n-1:]})
	staffCall(t, sock, member(t), "POST", staff.AcksPath, "", body, &resp)
	if err := testkit.WaitFor(30*time.Second, func() bool { return inode(t, db) != before }); err != nil {
		t.Fatal("the store was not rewritten after the staff queue drained")
	}
	// What the file now holds lies in an order that has nothing to do with
	// arrival.
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	var at []int
	for _, it := range page.Items {
		i := bytes.Index(raw, it.Sealed[len(it.Sealed)-64:])
		if i < 0 {
			t.Fatal("a report is not in the file")
		}
		at = append(at, i)
	}
	inversions := 0
	for i := range at {
		for j := i + 1; j < len(at); j++ {
			if at[i] > at[j] {
				inversions++
			}
		}
	}
	t.Logf("%d of %d pairs of reports lie in the file in the opposite order to their arrival", inversions, n*(n-1)/2)
	if inversions == 0 {
		t.Fatal("the rewritten file still lies in arrival order")
	}
}

// The daily chores run at a fixed hour, not a day after start-up.
func TestNextChores(t *testing.T) {
	for _, tc := range []struct{ now, want string }{
		{"2026-03-10T01:00:00Z", "2026-03-10T03:00:00Z"},
		{"2026-03-10T03:00:00Z", "2026-03-11T03:00:00Z"},
		{"2026-03-10T17:45:00Z", "2026-03-11T03:00:00Z"},
		{"2026-12-31T23:59:59Z", "2027-01-01T03:00:00Z"},
	} {
		now, _ := time.Parse(time.RFC3339, tc.now)
		if got := nextChores(now).Format(time.RFC3339); got != tc.want {
			t.Errorf("after %s: %s, want %s", tc.now, got, tc.want)
		}
	}
}
