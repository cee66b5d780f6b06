package intake

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/staff"
)

type liveServer struct {
	addr    string
	logs    *testkit.Buffer
	errLogs *testkit.Buffer
	dataDir string
	cfg     *config
	stop    func() error
}

// startServer runs serve on a free port, as cmd/intake does.
func startServer(t *testing.T, listen string) *liveServer {
	return startServerStaff(t, listen, "")
}

func startServerStaff(t *testing.T, listen, staffListen string) *liveServer {
	t.Helper()
	dir := t.TempDir()
	cfg, err := loadConfig(writeConfig(t, dir, ""))
	if err != nil {
		t.Fatal(err)
	}
	return runServer(t, cfg, filepath.Join(dir, "data"), listen, staffListen)
}

// runServer runs Serve with cfg, storing in dataDir.
func runServer(t *testing.T, cfg *config, dataDir, listen, staffListen string) *liveServer {
	t.Helper()
	return runServerOpts(t, cfg, dataDir, listen, staffListen, nil)
}

// runServerOpts is runServer with serveOptions changed by set.
func runServerOpts(t *testing.T, cfg *config, dataDir, listen, staffListen string, set func(*serveOptions)) *liveServer {
	t.Helper()
	ls := &liveServer{logs: &testkit.Buffer{}, errLogs: &testkit.Buffer{}, dataDir: dataDir, cfg: cfg}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	opts := serveOptions{
		DataDir:     ls.dataDir,
		Listen:      listen,
		StaffListen: staffListens(staffListen),
		Logger:      zerolog.New(ls.logs),
		ErrorLog:    log.New(ls.errLogs, "", 0),
		Ready:       func(a net.Addr) { ready <- a },
	}
	if set != nil {
		set(&opts)
	}
	go func() { done <- serve(ctx, cfg, opts) }()
	select {
	case a := <-ready:
		ls.addr = a.String()
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	}
	var stopped bool
	ls.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { ls.stop() })
	return ls
}

func (ls *liveServer) url(p string) string { return "http://" + ls.addr + p }

func TestCanary(t *testing.T) {
	ls := startServer(t, "127.0.0.1:0")
	const message = "canary-message-zebra-quartz"
	canaries := []string{"203.0.113.77", "CanaryAgent/9.9", "canary-referer.example", "canary=cookie-4711", "cookie-4711", message}

	send := func(path string, vals url.Values) string {
		req, err := http.NewRequest(http.MethodPost, ls.url(path), strings.NewReader(vals.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", "203.0.113.77")
		req.Header.Set("User-Agent", "CanaryAgent/9.9")
		req.Header.Set("Referer", "https://canary-referer.example/")
		req.Header.Set("Cookie", "canary=cookie-4711")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s = %d", path, resp.StatusCode)
		}
		if resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s sets a cookie", path)
		}
		return string(body)
	}
	code := receiptOf(t, send("/en/report", url.Values{"message": {message}, "about": {message}}))
	send("/en/check", url.Values{"receipt": {code}})
	send("/en/check/add", url.Values{"receipt": {code}, "message": {message}})

	// Refused forms come back with the words, in the answer and nowhere
	// else.
	refused := func(path string, status int, fields [][2]string, files []filePart) {
		t.Helper()
		body, ct := multipartBody(t, fields, files)
		req, err := http.NewRequest(http.MethodPost, ls.url(path), body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", ct)
		req.Header.Set("X-Forwarded-For", "203.0.113.77")
		req.Header.Set("User-Agent", "CanaryAgent/9.9")
		req.Header.Set("Referer", "https://canary-referer.example/")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != status || !strings.Contains(string(page), message) || resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s: %d, want %d with the words shown back:\n%s", path, resp.StatusCode, status, page)
		}
	}
	exe := []filePart{{"run.exe", "application/octet-stream", []byte("MZ\x90\x00\x03binary")}}
	refused("/en/report", http.StatusUnsupportedMediaType, [][2]string{{"message", message}, {"about", message}, {"contact", message}}, exe)
	refused("/en/report", http.StatusBadRequest, [][2]string{{"message", message + strings.Repeat(" x", maxMessageChars)}}, nil)
	refused("/en/check/add", http.StatusUnsupportedMediaType, [][2]string{{"receipt", code}, {"message", message}}, exe)
	// A request net/http itself rejects, so its error log has a chance to speak.
	c, err := net.Dial("tcp", ls.addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET /%s HTTP/1.1\r\nHost: %s\r\nX-Forwarded-For: 203.0.113.77\r\nBad Header\r\n\r\n", message, ls.addr)
	io.Copy(io.Discard, c)
	c.Close()
	if err := ls.stop(); err != nil {
		t.Fatal(err)
	}

	canaries = append(canaries, code, strings.ReplaceAll(code, "-", ""))
	logs := ls.logs.String() + ls.errLogs.String()
	if !strings.Contains(logs, `"message":"serving"`) {
		t.Fatalf("log capture is not working:\n%s", logs)
	}
	if strings.Contains(logs, `"/{lang}/report"`) {
		t.Fatalf("a successful submission left a log line:\n%s", logs)
	}
	for _, f := range testkit.FindCanaries("the logs", logs, canaries) {
		t.Errorf("%s:\n%s", f, logs)
	}
	found, files, err := testkit.FindCanariesInDir(ls.dataDir, canaries)
	if err != nil || files == 0 {
		t.Fatalf("walk: %v, %d files", err, files)
	}
	for _, f := range found {
		t.Error(f)
	}
}

func TestHugeHeader(t *testing.T) {
	t.Parallel()
	ls := startServer(t, "127.0.0.1:0")
	c, err := net.Dial("tcp", ls.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /en/report HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\nContent-Length: 0\r\n\r\n", strings.Repeat("a", 64<<10))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("huge header = %d, want 431", resp.StatusCode)
	}
	resp, err = http.Get(ls.url("/healthz"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("server stopped serving: %v", err)
	}
	resp.Body.Close()
}

// A submission in flight when the server is told to stop still finishes
// and is stored.
func TestGracefulShutdown(t *testing.T) {
	ls := startServer(t, "127.0.0.1:0")
	c, err := net.Dial("tcp", ls.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const first, rest = "message=started+before", "+the+stop"
	// With Expect: 100-continue the server says "100 Continue" when the
	// handler first reads the body: the signal that the submission is in
	// a handler.
	fmt.Fprintf(c, "POST /en/report HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n%s", ls.addr, len(first+rest), first)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusContinue {
		t.Fatalf("no 100 Continue: %v %v", resp, err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- ls.stop() }()
	// Shutdown closes the listener first: once nothing accepts, the
	// server is stopping with the submission still in flight.
	if err := testkit.WaitFor(testkit.Patience, func() bool {
		c, err := net.Dial("tcp", ls.addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	}); err != nil {
		t.Fatalf("the server did not start to shut down: %v", err)
	}
	io.WriteString(c, rest)
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	receiptOf(t, string(body))
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	store, err := openStore(ls.dataDir, ls.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if items, _, _ := store.Pending("", 10, nil, ""); len(items) != 1 {
		t.Fatalf("items after shutdown = %d, want 1", len(items))
	}
}

func TestUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "intake.sock")
	// A stale socket file is replaced.
	stale, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()

	ls := startServer(t, "unix:"+sock)
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode: %v %v", fi.Mode(), err)
	}
	client := testkit.UnixClient(sock)
	resp, err := client.Get("http://hearken/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz over the socket: %v", err)
	}
	resp.Body.Close()
	// A socket something still answers on is left alone.
	if _, err := listen("unix:"+sock, 0o660); err == nil || !strings.Contains(err.Error(), "already listening") {
		t.Fatalf("second listener: %v", err)
	}
	ls.stop()
}

// staffListens splits a test's staff listeners, given as one string with
// commas between them.
func staffListens(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// The staff channel on two sockets (tor's and the SSH one), mode 0660 so
// their folders' groups decide who else may connect; the public site is
// on neither, and the staff channel not on the public listener.
func TestStaffListener(t *testing.T) {
	dir := t.TempDir()
	socks := []string{filepath.Join(dir, "staff.sock"), filepath.Join(dir, "staff-ssh.sock")}
	ls := startServerStaff(t, "127.0.0.1:0", "unix:"+socks[0]+",unix:"+socks[1])
	for _, sock := range socks {
		fi, err := os.Stat(sock)
		if err != nil || fi.Mode().Perm() != 0o660 {
			t.Fatalf("staff socket mode: %v %v", fi.Mode(), err)
		}
		client := testkit.UnixClient(sock)
		// Unsigned requests are refused; the public site is not served here.
		for _, p := range []string{"/en/report", "/healthz", staff.ItemsPath} {
			resp, err := client.Get("http://staff" + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == 200 {
				t.Errorf("staff listener serves %s", p)
			}
		}
	}
	// And the public listener does not serve the staff channel.
	resp, err := http.Get(ls.url(staff.ItemsPath))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("public listener answered the staff path with %d", resp.StatusCode)
	}
	if err := ls.stop(); err != nil {
		t.Fatal(err)
	}
}
