package main

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hearken-project/hearken/intake"
	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/vault"
)

func TestMain(m *testing.M) {
	testkit.Main(m, map[string]func() int{
		"intake": func() int { return intake.Main(os.Args[1:], os.Stdout, os.Stderr) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: testkit.Cmds(map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"mkteam":  cmdMkteam,
			"badteam": cmdBadteam,
			"session": cmdSession,
		}),
	})
}

// mkteam FILE: write a team file with one freshly generated member.
func cmdMkteam(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: mkteam FILE")
	}
	m, err := vault.GenerateMember("Alex Lead")
	ts.Check(err)
	writeFile(ts, args[0], "# team\n"+m.TeamLine()+"\n")
}

// badteam FILE MARKER: write a team file whose third line has a damaged
// recipient containing MARKER, to check errors never echo key material.
func cmdBadteam(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: badteam FILE MARKER")
	}
	a, err := vault.GenerateMember("Alex Lead")
	ts.Check(err)
	b, err := vault.GenerateMember("Bo Deputy")
	ts.Check(err)
	line := b.TeamLine()
	i := len("age1pq1") + 10
	bad := line[:i] + args[1] + line[i+len(args[1]):]
	writeFile(ts, args[0], "# team\n"+a.TeamLine()+"\n"+bad+"\n")
}

func writeFile(ts *testscript.TestScript, name, data string) {
	p := ts.MkAbs(name)
	ts.Check(os.MkdirAll(filepath.Dir(p), 0o755))
	ts.Check(os.WriteFile(p, []byte(data), 0o644))
}

// session DATA LOG: run `intake serve --demo` on a unix socket, wait for
// it, file a report, check the receipt and the check page, add a message,
// then stop it with SIGINT and expect a clean exit. Its stderr goes to LOG.
func cmdSession(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: session DATA LOG")
	}
	sock := ts.MkAbs("intake.sock")
	logf, err := os.Create(ts.MkAbs(args[1]))
	ts.Check(err)
	defer logf.Close()
	cmd := exec.Command("intake", "serve", "--demo", "--data", ts.MkAbs(args[0]), "--listen", "unix:"+sock)
	cmd.Stderr = logf
	cmd.Stdout = logf
	ts.Check(cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	}()

	client := testkit.UnixClient(sock)
	var early error
	var gone bool
	err = testkit.WaitFor(testkit.Patience, func() bool {
		select {
		case early = <-exited:
			gone = true
			return true
		default:
		}
		resp, err := client.Get("http://intake/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if err != nil {
		ts.Fatalf("intake did not answer /healthz: %v", err)
	}
	if gone {
		ts.Fatalf("intake exited early: %v", early)
	}

	page := func(resp *http.Response, err error) string {
		ts.Check(err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			ts.Fatalf("status %d:\n%s", resp.StatusCode, body)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			ts.Fatalf("Cache-Control %q", cc)
		}
		return string(body)
	}
	if form := page(client.Get("http://intake/en/report")); !strings.Contains(form, `name="message"`) {
		ts.Fatalf("report form has no message field")
	}

	const secret = "session-secret-words"
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("message", secret)
	mw.WriteField("danger", "unsure")
	mw.Close()
	receiptPage := page(client.Post("http://intake/en/report", mw.FormDataContentType(), &buf))
	const open = `<strong id="receipt">`
	i := strings.Index(receiptPage, open)
	if i < 0 {
		ts.Fatalf("no receipt:\n%s", receiptPage)
	}
	code := receiptPage[i+len(open):]
	code = strings.ReplaceAll(code[:strings.Index(code, "</strong>")], "<wbr>", "")
	if _, err := vault.ParseReceipt(code); err != nil {
		ts.Fatalf("receipt does not parse: %v", err)
	}

	thread := page(client.PostForm("http://intake/en/check", url.Values{"receipt": {code}}))
	if !strings.Contains(thread, "There is no answer yet") || strings.Contains(thread, secret) {
		ts.Fatalf("check page:\n%s", thread)
	}
	added := page(client.PostForm("http://intake/en/check/add", url.Values{"receipt": {code}, "message": {"more " + secret}}))
	if !strings.Contains(added, "We added your message") {
		ts.Fatalf("add page:\n%s", added)
	}
	unknown := page(client.PostForm("http://intake/en/check", url.Values{"receipt": {"0000-0000-0000-0000-0000-0000"}}))
	if !strings.Contains(unknown, "could not find that code") && !strings.Contains(unknown, "typo") {
		ts.Fatalf("unknown code page:\n%s", unknown)
	}

	ts.Check(cmd.Process.Signal(os.Interrupt))
	select {
	case err := <-exited:
		if err != nil {
			ts.Fatalf("intake did not exit cleanly: %v", err)
		}
	case <-time.After(testkit.Patience):
		ts.Fatalf("intake did not stop on SIGINT")
	}
	// The code and the words must not be in the log.
	logData, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	if found := testkit.FindCanaries("the log", string(logData), []string{secret, code}); found != nil {
		ts.Fatalf("%s", strings.Join(found, "\n"))
	}
	fmt.Fprintf(ts.Stdout(), "session ok\n")
}
