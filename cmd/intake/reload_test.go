package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// reloadServer is a real `intake serve` (this test binary under the name
// intake) with its public site and staff channel on unix sockets.
type reloadServer struct {
	t          *testing.T
	dir        string
	proc       *os.Process
	pub, staff *http.Client
	pubSock    string
	stderr     *lockedBuffer
}

func startReloadServer(t *testing.T, team ...*vault.Member) *reloadServer {
	t.Helper()
	s := &reloadServer{t: t, dir: t.TempDir(), stderr: &lockedBuffer{}}
	s.writeTeam(team...)
	cfg := `school = "Hillside School"
[[emergency.en]]
name = "Police and ambulance"
phone = "999"
[[routes]]
name = "safeguarding"
team = "teams/safeguarding.txt"
`
	if err := os.WriteFile(filepath.Join(s.dir, "intake.toml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s.pubSock = filepath.Join(s.dir, "public.sock")
	staffSock := filepath.Join(s.dir, "staff.sock")
	cmd := exec.Command(exe, "serve", "--config", filepath.Join(s.dir, "intake.toml"), "--data", filepath.Join(s.dir, "data"),
		"--listen", "unix:"+s.pubSock, "--staff-listen", "unix:"+staffSock)
	cmd.Args[0] = "intake" // testkit.Main runs intake.Main under this name
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.proc = cmd.Process
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	s.pub, s.staff = testkit.UnixClient(s.pubSock), testkit.UnixClient(staffSock)
	s.waitLog("serving the staff channel", 1)
	return s
}

func (s *reloadServer) writeTeam(members ...*vault.Member) {
	var b strings.Builder
	b.WriteString("# the safeguarding team\n")
	for _, m := range members {
		b.WriteString(m.TeamLine() + "\n")
	}
	s.writeTeamFile(b.String())
}

func (s *reloadServer) writeTeamFile(text string) {
	p := filepath.Join(s.dir, "teams", "safeguarding.txt")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// waitLog waits until the log holds n lines matching pattern.
func (s *reloadServer) waitLog(pattern string, n int) {
	s.t.Helper()
	re := regexp.MustCompile(pattern)
	err := testkit.WaitFor(testkit.Patience, func() bool { return len(re.FindAllString(s.stderr.String(), -1)) >= n })
	if err != nil {
		s.t.Fatalf("the log never said %q %d times: %v\n%s", pattern, n, err, s.stderr)
	}
}

// hup sends SIGHUP, as systemctl reload does, and waits for the n-th
// answer in the log, good or bad.
func (s *reloadServer) hup(n int) {
	s.t.Helper()
	if err := s.proc.Signal(syscall.SIGHUP); err != nil {
		s.t.Fatal(err)
	}
	s.waitLog(`team files (not )?reloaded`, n)
}

// report sends a report and returns its receipt.
func (s *reloadServer) report(text string) string {
	s.t.Helper()
	form := url.Values{"message": {text}}
	req, _ := http.NewRequest(http.MethodPost, "http://intake/en/report", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := s.pub.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return receiptOf(s.t, resp.StatusCode, page)
}

var receiptRE = regexp.MustCompile(`<strong id="receipt">((?:[0-9A-Z-]|<wbr>)+)</strong>`)

func receiptOf(t *testing.T, status int, page []byte) string {
	t.Helper()
	m := receiptRE.FindSubmatch(page)
	if status != http.StatusOK || m == nil {
		t.Fatalf("report: status %d, no receipt:\n%s", status, page)
	}
	return strings.ReplaceAll(string(m[1]), "<wbr>", "")
}

// items asks the staff channel, signed by m, for m's items: the status, the
// body, and the items when it answers 200.
func (s *reloadServer) items(m *vault.Member) (int, string, []staff.Item) {
	s.t.Helper()
	sig, err := staff.Sign(m, http.MethodGet, staff.ItemsPath, "", time.Now(), nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://staff"+staff.ItemsPath, nil)
	for k, v := range sig.Headers() {
		req.Header.Set(k, v)
	}
	resp, err := s.staff.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, string(body), nil
	}
	var ir staff.ItemsResponse
	if err := json.Unmarshal(body, &ir); err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, string(body), ir.Items
}

// reports returns m's waiting reports by their text, opened with opener.
func (s *reloadServer) reports(m, opener *vault.Member) map[string][]byte {
	s.t.Helper()
	code, body, items := s.items(m)
	if code != http.StatusOK {
		s.t.Fatalf("%s's sync: %d %s", m.Name, code, body)
	}
	out := map[string][]byte{}
	for _, it := range items {
		env, err := vault.Open(it.Sealed, opener.Identity())
		if err != nil {
			s.t.Fatal(err)
		}
		out[env.Field("message")] = it.Sealed
	}
	return out
}

// slowUpload is a report with a file whose body is still arriving.
type slowUpload struct {
	conn net.Conn
	rest []byte
	br   *bufio.Reader
}

// startUpload sends a report's headers and the first half of its body, and
// returns once the server's handler has begun to read it (it answers
// "100 Continue" on the first read).
func (s *reloadServer) startUpload(text string) *slowUpload {
	s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("message", text)
	fw, _ := mw.CreateFormFile("file", "notes.txt")
	fw.Write(bytes.Repeat([]byte("what they said to me, written down\n"), 2000))
	mw.Close()
	conn, err := net.Dial("unix", s.pubSock)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /en/report HTTP/1.1\r\nHost: intake\r\nContent-Type: %s\r\nContent-Length: %d\r\nSec-Fetch-Site: same-origin\r\nExpect: 100-continue\r\n\r\n",
		mw.FormDataContentType(), body.Len())
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		s.t.Fatalf("no 100 Continue: %q %v", line, err)
	}
	if _, err := br.ReadString('\n'); err != nil { // the blank line after it
		s.t.Fatal(err)
	}
	half := body.Len() / 2
	if _, err := conn.Write(body.Bytes()[:half]); err != nil {
		s.t.Fatal(err)
	}
	return &slowUpload{conn: conn, rest: body.Bytes()[half:], br: br}
}

// finish sends the rest of the body and returns the receipt.
func (u *slowUpload) finish(t *testing.T) string {
	t.Helper()
	if _, err := u.conn.Write(u.rest); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(u.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return receiptOf(t, resp.StatusCode, page)
}

// A lead is added to the team file and another taken out while the real
// server runs; SIGHUP (systemctl reload) makes it so, with no restart:
// the new lead's signed requests work and the old one's get the generic
// 401; a report sent after the reload is sealed to the new team; an upload
// under way across the reload completes, sealed to the team it started
// with; and a damaged team file at a later reload leaves the team serving.
func TestReloadTeamFiles(t *testing.T) {
	sam, err := vault.GenerateMember("Sam Lead")
	if err != nil {
		t.Fatal(err)
	}
	rob, err := vault.GenerateMember("Rob Deputy")
	if err != nil {
		t.Fatal(err)
	}
	nia, err := vault.GenerateMember("Nia Newlead")
	if err != nil {
		t.Fatal(err)
	}
	s := startReloadServer(t, sam, rob)

	s.report("before the change")
	if code, _, items := s.items(rob); code != http.StatusOK || len(items) != 1 {
		t.Fatalf("Rob before the change: %d, %d items", code, len(items))
	}
	if code, body, _ := s.items(nia); code != http.StatusUnauthorized || body != "unauthorized" {
		t.Fatalf("Nia before she is added: %d %q", code, body)
	}

	// An upload is under way; Rob is taken out and Nia put in.
	upload := s.startUpload("sent while the team changed")
	s.writeTeam(sam, nia)
	s.hup(1)
	s.waitLog(`"message":"team files reloaded: 1 route, 2 members"`, 1)
	inFlight := upload.finish(t)
	after := s.report("after the change")
	if inFlight == "" || after == "" {
		t.Fatal("no receipt")
	}

	// Rob is refused, with the same 401 as any stranger.
	if code, body, _ := s.items(rob); code != http.StatusUnauthorized || body != "unauthorized" {
		t.Fatalf("Rob after he was taken out: %d %q", code, body)
	}
	// Nia is in: she receives the history the server holds (which was
	// sealed before her), the upload (sealed to the team it started with)
	// and the new report, which she can open and Rob cannot.
	got := s.reports(nia, sam)
	if len(got) != 3 {
		t.Fatalf("Nia receives %d reports, want 3", len(got))
	}
	newOne := got["after the change"]
	if _, err := vault.Open(newOne, nia.Identity()); err != nil {
		t.Errorf("Nia cannot open the report sent after the reload: %v", err)
	}
	if _, err := vault.Open(newOne, rob.Identity()); !errors.Is(err, vault.ErrWrongKey) {
		t.Errorf("Rob's key on the report sent after the reload: %v, want ErrWrongKey", err)
	}
	upl := got["sent while the team changed"]
	if upl == nil {
		t.Fatal("the upload under way during the reload was not stored")
	}
	if _, err := vault.Open(upl, rob.Identity()); err != nil {
		t.Errorf("the upload did not finish with the team it started with: %v", err)
	}
	if _, err := vault.Open(got["before the change"], nia.Identity()); !errors.Is(err, vault.ErrWrongKey) {
		t.Errorf("Nia's key opens a report sealed before she joined: %v", err)
	}

	// A damaged line at the next reload: the team stays as it was.
	good := sam.TeamLine()
	marker := "ZZZZ9999ZZZZ"
	bad := nia.TeamLine()
	i := len("age1pq1") + 10
	bad = bad[:i] + marker + bad[i+len(marker):]
	s.writeTeamFile("# the safeguarding team\n" + good + "\n" + bad + "\n")
	s.hup(2)
	s.waitLog(`team files not reloaded`, 1)
	logs := s.stderr.String()
	if !strings.Contains(logs, `team file teams/safeguarding.txt: line 3: the age recipient is not valid`) {
		t.Errorf("the log does not name the file and line:\n%s", logs)
	}
	if code, _, _ := s.items(nia); code != http.StatusOK {
		t.Errorf("Nia after a bad reload: %d", code)
	}
	if code, _, _ := s.items(rob); code != http.StatusUnauthorized {
		t.Errorf("Rob after a bad reload: %d", code)
	}
	s.report("after the bad file")
	last := s.reports(nia, sam)["after the bad file"]
	if _, err := vault.Open(last, nia.Identity()); err != nil {
		t.Errorf("a report after the bad reload is not sealed to the team that serves: %v", err)
	}

	// The log names no member and shows no key or line of a team file.
	for _, secret := range []string{"Sam Lead", "Rob Deputy", "Nia Newlead", marker,
		vault.FormatSigningKey(nia.SigningPublic()), nia.Recipient().String()[:20], inFlight, after} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
}
