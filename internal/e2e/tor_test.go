package e2e

import (
	"bytes"
	"context"
	"errors"
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

	"github.com/hearken-project/hearken/internal/onion"
	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/internal/tornet"
)

// TestTorLoop runs the whole loop over a private Tor network, with the real
// intake and reviewer programs and the files intake writes for tor, as a
// school would set it up (deploy/README.md):
//
//   - intake init --staff-onion-dir and intake check write the team's onion
//     keys into the staff onion service's authorized_clients;
//   - a student reports, with a file, and checks the receipt, through the
//     public onion service;
//   - Dana syncs and replies through the client-authorized staff onion, her
//     reviewer giving tor her key through its control port;
//   - Eli's tor is like Tor Browser's (no control port for reviewer): his
//     first sync is refused with "this computer's onion key is missing" and
//     a hint to restart tor, because reviewer has just written the key into
//     tor's key folder; after the restart, his sync works;
//   - the student reads the reply and adds a follow-up, which Dana's next
//     sync brings in;
//   - Fay is taken out of the team: one edit, intake check, a reload of
//     intake (SIGHUP) and of tor, and her reviewer is told "the onion
//     service does not accept this computer's onion key", with what to do.
//
// One network serves every step; the steps depend on each other and run
// in order.
func TestTorLoop(t *testing.T) {
	begin := time.Now()
	tn := tornet.Start(t, tornet.Options{})
	work := t.TempDir()
	pass := filepath.Join(work, "pass")
	write(t, pass, "correct horse battery staple\n")
	env := append(os.Environ(), "HOME="+filepath.Join(work, "home"))
	run := func(t *testing.T, args ...string) (string, string, error) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	must := func(t *testing.T, args ...string) string {
		t.Helper()
		stdout, stderr, err := run(t, args...)
		if err != nil {
			t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout, stderr)
		}
		return stdout
	}
	store := func(who string) string { return filepath.Join(work, who) }
	reviewer := func(who string, args ...string) []string {
		return append([]string{"reviewer", "--store", store(who), "--passphrase-file", pass}, args...)
	}

	// The leads make their keys; IT puts their lines in the team files and
	// sets up the staff onion's folder with intake init.
	etc := filepath.Join(work, "etc")
	staffDir := filepath.Join(work, "tor", "hearken-staff")
	if err := os.MkdirAll(filepath.Dir(staffDir), 0o700); err != nil {
		t.Fatal(err)
	}
	must(t, "intake", "init", "--config", filepath.Join(etc, "intake.toml"), "--data", filepath.Join(work, "data"), "--staff-onion-dir", staffDir)
	lines := map[string]string{}
	for who, name := range map[string]string{"dana": "Dana Lead", "eli": "Eli Deputy", "fay": "Fay Deputy"} {
		must(t, reviewer(who, "keygen", "--name", name)...)
		b, err := os.ReadFile(filepath.Join(store(who), "member.pub"))
		if err != nil {
			t.Fatal(err)
		}
		lines[who] = string(b)
	}
	safeguarding := filepath.Join(etc, "teams", "safeguarding.txt")
	write(t, safeguarding, lines["dana"]+lines["eli"]+lines["fay"])
	write(t, filepath.Join(etc, "teams", "head.txt"), lines["dana"])
	config := filepath.Join(etc, "intake.toml")
	out := must(t, "intake", "check", "--config", config)
	if !strings.Contains(out, "staff onion: 3 member keys") || !strings.Contains(out, "3 key files written, 1 removed") {
		t.Fatalf("intake check:\n%s", out)
	}

	// The server, on unix sockets only, and tor's two onion services.
	publicSock, staffSock := tn.SocketPath("public.sock"), tn.SocketPath("staff.sock")
	var intakeLog testkit.Buffer
	server := exec.Command("intake", "serve", "--config", config, "--data", filepath.Join(work, "data"),
		"--listen", "unix:"+publicSock, "--staff-listen", "unix:"+staffSock)
	server.Env, server.Stderr = env, &intakeLog
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			server.Process.Signal(syscall.SIGINT)
			server.Wait()
		}
	}
	t.Cleanup(stop)
	for _, sock := range []string{publicSock, staffSock} {
		if err := testkit.WaitFor(testkit.Patience, func() bool {
			c, err := net.Dial("unix", sock)
			if err == nil {
				c.Close()
			}
			return err == nil
		}); err != nil {
			t.Fatalf("intake serve does not answer on %s: %v\n%s", sock, err, intakeLog.String())
		}
	}
	step := time.Now()
	svcs := tn.AddServices(
		tornet.ServiceOptions{Target: "unix:" + publicSock},
		tornet.ServiceOptions{Target: "unix:" + staffSock, Dir: staffDir},
	)
	public, staffOnion := svcs[0], svcs[1]
	t.Logf("both onion services published in %s", time.Since(step).Round(100*time.Millisecond))
	step = time.Now()
	clients := tn.AddClients(
		tornet.ClientOptions{SocksFlags: "ExtendedErrors"}, // the student
		tornet.ClientOptions{SocksFlags: "ExtendedErrors"}, // Dana: a system tor reviewer may control
		tornet.ClientOptions{SocksFlags: "ExtendedErrors"}, // Eli: as Tor Browser, keys from a folder
		tornet.ClientOptions{SocksFlags: "ExtendedErrors"}, // Fay
	)
	student, danaTor, eliTor, fayTor := clients[0], clients[1], clients[2], clients[3]
	t.Logf("clients bootstrapped in %s", time.Since(step).Round(100*time.Millisecond))
	staffURL := "http://" + staffOnion.Address

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	site := onionSite(student, public.Address)
	const reportText = "Somebody in year 8 keeps sending me messages at night"
	var receipt string

	t.Run("report through the public onion", func(t *testing.T) {
		page := site.post(t, "/en/report", multipartForm(t, map[string]string{"message": reportText},
			"notes.txt", "He said he would tell everyone. Monday\n"))
		m := receiptRE.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no receipt on the page:\n%s", page)
		}
		receipt = strings.ReplaceAll(m[1], "<wbr>", "")
		page = site.post(t, "/en/check", form("receipt", receipt))
		if !strings.Contains(page, "There is no answer yet") || strings.Contains(page, reportText) {
			t.Fatalf("check page:\n%s", page)
		}
	})

	var caseNumber string // as sync names it, the same on every computer
	t.Run("sync and reply through the staff onion", func(t *testing.T) {
		// Dana's tor without her key: tor finds the staff onion's
		// descriptor but cannot open it, and says so in plain words.
		_, err := danaTor.Dial(ctx, staffOnion.Address+":80")
		if !errors.Is(err, onion.ErrNoKey) {
			t.Fatalf("a tor without the key: %v", err)
		}
		must(t, reviewer("dana", "init", "--team", safeguarding, "--server", staffURL,
			"--proxy", "socks5://"+danaTor.SocksAddr, "--tor-control", danaTor.ControlSocket)...)
		out := must(t, reviewer("dana", "sync")...)
		m := regexp.MustCompile(`Received 1 new item \(1 report\); 1 new case: (HK-[0-9A-Z]{4}-[0-9A-Z]{4})\.`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("sync:\n%s", out)
		}
		caseNumber = m[1]
		// The key went through the control port: nothing was written.
		if files, _ := os.ReadDir(danaTor.OnionAuthDir); len(files) != 0 {
			t.Fatalf("reviewer wrote %d files into tor's key folder", len(files))
		}
		out = must(t, reviewer("dana", "show", caseNumber)...)
		if !strings.Contains(out, reportText) || !strings.Contains(out, "attachment-1.txt") {
			t.Fatalf("show:\n%s", out)
		}
		must(t, reviewer("dana", "reply", caseNumber, "--message", "Thank you for telling us. We will talk to you tomorrow.")...)
		if out = must(t, reviewer("dana", "sync")...); !strings.Contains(out, "Sent 1 reply") {
			t.Fatalf("sync:\n%s", out)
		}
	})

	t.Run("a tor without the key is refused, then restarted with it", func(t *testing.T) {
		// As with Tor Browser, reviewer cannot use this tor's control port,
		// so it writes the key into tor's key folder, which tor reads when
		// it starts.
		if _, err := eliTor.Dial(ctx, staffOnion.Address+":80"); !errors.Is(err, onion.ErrNoKey) {
			t.Fatalf("a tor without the key: %v", err)
		}
		must(t, reviewer("eli", "init", "--team", safeguarding, "--server", staffURL,
			"--proxy", "socks5://"+eliTor.SocksAddr, "--tor-control", "off", "--onion-auth-dir", eliTor.OnionAuthDir)...)
		stdout, stderr, err := run(t, reviewer("eli", "sync")...)
		if err == nil {
			t.Fatalf("sync without the key in tor worked:\n%s", stdout)
		}
		file := filepath.Join(eliTor.OnionAuthDir, strings.TrimSuffix(staffOnion.Address, ".onion")+".auth_private")
		for _, want := range []string{
			"Saved this computer's onion key for the staff onion in " + file + "; tor reads it when it starts.\n",
			"reviewer: sync stopped: could not reach the server at " + staffURL + ": this computer's onion key is missing: the onion service admits only computers whose key it knows\n",
			"reviewer: hint: reviewer has just saved this computer's onion key in " + file + ", and tor reads it only when it starts: restart Tor Browser (or reload the tor service), then run reviewer sync again\n",
		} {
			if !strings.Contains(stderr, want) {
				t.Fatalf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		t.Logf("eli's first sync: %s", stderr)
		if err := eliTor.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		// The first connection after a restart fetches the descriptor
		// again; tornet's Dial waits out a network still settling.
		conn, err := eliTor.Dial(ctx, staffOnion.Address+":80")
		if err != nil {
			t.Fatalf("with the key read at start: %v", err)
		}
		conn.Close()
		if out := must(t, reviewer("eli", "sync")...); !strings.Contains(out, "Received 2 new items") {
			t.Fatalf("sync after the restart:\n%s", out)
		}
	})

	t.Run("the student reads the reply and adds more", func(t *testing.T) {
		page := site.post(t, "/en/check", form("receipt", receipt))
		if !strings.Contains(page, `class="reply"`) || !strings.Contains(page, "We will talk to you tomorrow.") {
			t.Fatalf("check page:\n%s", page)
		}
		site.post(t, "/en/check/add", form("receipt", receipt, "message", "It happened again last night"))
		out := must(t, reviewer("dana", "sync")...)
		if !strings.Contains(out, "Received 1 new item (1 follow-up from a reporter).") {
			t.Fatalf("sync:\n%s", out)
		}
		if out = must(t, reviewer("dana", "show", caseNumber)...); !strings.Contains(out, "It happened again last night") {
			t.Fatalf("show:\n%s", out)
		}
	})

	t.Run("a member taken out of the team is refused", func(t *testing.T) {
		write(t, safeguarding, lines["dana"]+lines["eli"])
		out := must(t, "intake", "check", "--config", config)
		if !strings.Contains(out, "staff onion: 2 member keys") || !strings.Contains(out, "0 key files written, 1 removed") {
			t.Fatalf("intake check:\n%s", out)
		}
		// What intake check --apply has systemd do: the server reads the
		// team files again (SIGHUP), then tor its keys.
		if err := server.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		if err := testkit.WaitFor(testkit.Patience, func() bool {
			return strings.Contains(intakeLog.String(), "team files reloaded: 2 routes, 2 members")
		}); err != nil {
			t.Fatalf("intake did not reload its team files: %v\n%s", err, intakeLog.String())
		}
		step := time.Now()
		if err := staffOnion.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		t.Logf("tor reloaded and published again in %s", time.Since(step).Round(100*time.Millisecond))
		if _, err := fayTor.Dial(ctx, staffOnion.Address+":80"); !errors.Is(err, onion.ErrNoKey) {
			t.Fatalf("fay's tor before reviewer: %v", err)
		}
		must(t, reviewer("fay", "init", "--team", safeguarding, "--server", staffURL,
			"--proxy", "socks5://"+fayTor.SocksAddr, "--tor-control", fayTor.ControlSocket)...)
		_, stderr, err := run(t, reviewer("fay", "sync")...)
		if err == nil {
			t.Fatal("a removed member's sync worked")
		}
		for _, want := range []string{
			"reviewer: sync stopped: could not reach the server at " + staffURL + ": the onion service does not accept this computer's onion key: it was removed, or it is not the key the service lists\n",
			"reviewer: hint: send the line that reviewer onion-key prints to the person who runs Hearken",
		} {
			if !strings.Contains(stderr, want) {
				t.Fatalf("stderr lacks %q:\n%s", want, stderr)
			}
		}
	})

	// The server's log holds no word of the report and no receipt.
	stop()
	if found := testkit.FindCanaries("intake's log", intakeLog.String(), []string{reportText, "happened again", receipt, "talk to you tomorrow"}); len(found) > 0 {
		t.Errorf("%v", found)
	}
	t.Logf("network bootstrap %s; whole test %s", tn.Bootstrap.Round(100*time.Millisecond), time.Since(begin).Round(100*time.Millisecond))
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// onionClient is the public site as a student's Tor Browser reaches it.
type onionClient struct {
	host string
	hc   *http.Client
}

func onionSite(c *tornet.Client, address string) *onionClient {
	return &onionClient{host: address, hc: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.Dial(ctx, address+":80")
		},
	}}}
}

type body struct {
	contentType string
	data        []byte
}

func form(kv ...string) body {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return body{"application/x-www-form-urlencoded", []byte(v.Encode())}
}

func multipartForm(t *testing.T, fields map[string]string, fileName, fileData string) body {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", fileName)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(fw, fileData)
	mw.Close()
	return body{mw.FormDataContentType(), buf.Bytes()}
}

// post sends a form as a browser does and returns the page, which must
// come back 200.
func (o *onionClient) post(t *testing.T, path string, b body) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+o.host+path, bytes.NewReader(b.data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", b.contentType)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := o.hc.Do(req)
	if err != nil {
		t.Fatalf("POST %s through the onion: %v", path, err)
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d, %v\n%s", path, resp.StatusCode, err, page)
	}
	return string(page)
}
