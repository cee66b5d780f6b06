package e2e

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hearken-project/hearken/intake"
	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/reviewer"
	"github.com/hearken-project/hearken/vault"
)

func TestMain(m *testing.M) {
	testkit.Main(m, map[string]func() int{
		"intake":   func() int { return intake.Main(os.Args[1:], os.Stdout, os.Stderr) },
		"reviewer": func() int { return reviewer.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir+"/home")
			return nil
		},
		Cmds: testkit.Cmds(map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"reporter": cmdReporter,
		}),
	})
}

// receiptRE finds the code on the receipt page, which may break a line
// after each hyphen (<wbr>).
var receiptRE = regexp.MustCompile(`<strong id="receipt">((?:[0-9A-Z-]|<wbr>)+)</strong>`)

// reporter SOCKET report TEXT: send a report; remember the receipt as $RECEIPT.
// reporter SOCKET report-as LANG DANGER TEXT: the same, on the LANG site,
// answering DANGER to "Is someone in danger right now?".
// reporter SOCKET report-with FILE TEXT: the same, with FILE attached.
// reporter SOCKET check: check $RECEIPT; the page goes to stdout.
// reporter SOCKET add TEXT: add a message to $RECEIPT's thread.
// reporter SOCKET check CODE: check a code given literally; "fresh" is a
// new valid code that was never issued, and "typo" is $RECEIPT with its
// first symbol changed.
func cmdReporter(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: reporter SOCKET report|check|add [TEXT]")
	}
	client := testkit.UnixClient(ts.MkAbs(args[0]))
	send := func(path, contentType string, body io.Reader) (int, string) {
		req, err := http.NewRequest(http.MethodPost, "http://school.example"+path, body)
		ts.Check(err)
		req.Header.Set("Content-Type", contentType)
		// What a browser sends on a same-origin form post.
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := client.Do(req)
		ts.Check(err)
		defer resp.Body.Close()
		page, err := io.ReadAll(resp.Body)
		ts.Check(err)
		return resp.StatusCode, string(page)
	}
	post := func(path string, form url.Values) (int, string) {
		return send(path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	}
	var status int
	var page string
	switch args[1] {
	case "report":
		status, page = post("/en/report", url.Values{"message": {strings.Join(args[2:], " ")}, "danger": {"no"}})
		if m := receiptRE.FindStringSubmatch(page); m != nil {
			ts.Setenv("RECEIPT", strings.ReplaceAll(m[1], "<wbr>", ""))
		}
	case "report-as":
		if len(args) < 5 {
			ts.Fatalf("usage: reporter SOCKET report-as LANG DANGER TEXT...")
		}
		status, page = post("/"+args[2]+"/report", url.Values{"message": {strings.Join(args[4:], " ")}, "danger": {args[3]}})
		if m := receiptRE.FindStringSubmatch(page); m != nil {
			ts.Setenv("RECEIPT", strings.ReplaceAll(m[1], "<wbr>", ""))
		}
	case "report-with":
		if len(args) < 4 {
			ts.Fatalf("usage: reporter SOCKET report-with FILE TEXT...")
		}
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		ts.Check(mw.WriteField("message", strings.Join(args[3:], " ")))
		fw, err := mw.CreateFormFile("file", filepath.Base(args[2]))
		ts.Check(err)
		_, err = fw.Write([]byte(ts.ReadFile(args[2])))
		ts.Check(err)
		ts.Check(mw.Close())
		status, page = send("/en/report", mw.FormDataContentType(), &buf)
		if m := receiptRE.FindStringSubmatch(page); m != nil {
			ts.Setenv("RECEIPT", strings.ReplaceAll(m[1], "<wbr>", ""))
		}
	case "check":
		code := ts.Getenv("RECEIPT")
		if len(args) > 2 {
			code = args[2]
		}
		if code == "typo" {
			code = ts.Getenv("RECEIPT")
			first := "A"
			if strings.HasPrefix(code, "A") {
				first = "B"
			}
			code = first + code[1:]
		}
		if code == "fresh" {
			r, err := vault.NewReceipt()
			ts.Check(err)
			code = r.Reveal()
		}
		status, page = post("/en/check", url.Values{"receipt": {code}})
	case "add":
		status, page = post("/en/check/add", url.Values{"receipt": {ts.Getenv("RECEIPT")}, "message": {strings.Join(args[2:], " ")}})
	default:
		ts.Fatalf("unknown reporter action %q", args[1])
	}
	fmt.Fprint(ts.Stdout(), page)
	if (status == http.StatusOK) == neg {
		ts.Fatalf("reporter %s: status %d", args[1], status)
	}
}
