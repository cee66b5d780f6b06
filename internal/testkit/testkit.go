// Package testkit holds what Hearken's tests share: the TestMain that runs
// the programs under test as testscript commands with a cheap scrypt work
// factor, testscript commands several packages use, canary searching in
// logs and data directories, a log buffer safe for concurrent writers,
// a check that secrets print under no fmt verb (Unprintable), small
// helpers for talking to a server on a unix socket and waiting for a
// condition without sleeping a fixed time, a small tmpfs for the
// full-disk tests, and a real SMTP server (Debian's python3-aiosmtpd) with
// a test CA for the alert tests.
//
// It is for tests only: import it from _test.go files, never from a
// program. It imports no Hearken package except internal/workfactor, so
// that vault's own tests can use it too.
package testkit

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hearken-project/hearken/internal/workfactor"
)

// ScryptWorkFactor is the work factor of identity files written by tests,
// as in age's own tests: 2^10 takes about a millisecond instead of a second.
const ScryptWorkFactor = 10

// Main is a package's TestMain. It lowers the scrypt work factor for the
// test binary, and so for every command it runs, then hands over to
// testscript.Main: when the binary is started under one of the names in
// cmds (as testscript's exec does), it runs that function and exits with
// its status instead of running the tests. A package that runs no
// commands but writes identity files (intake's demo) passes nil.
func Main(m *testing.M, cmds map[string]func() int) {
	workfactor.LowerForTests(ScryptWorkFactor)
	if len(cmds) == 0 {
		os.Exit(m.Run())
	}
	wrapped := make(map[string]func(), len(cmds))
	for name, f := range cmds {
		wrapped[name] = func() { os.Exit(f()) }
	}
	testscript.Main(m, wrapped)
}

// Cmds returns a package's own testscript commands together with the
// shared ones, for Params.Cmds:
//
//	mode FILE PERM   FILE's permission bits are PERM (octal, as 0600)
//	waitsock PATH    wait until something accepts connections on the unix socket PATH
//	nocanary DIR WORD...
//	                 no file under DIR holds any of the WORDs
//	capture NAME REGEXP
//	                 set $NAME to the first submatch of REGEXP (multi-line) in
//	                 the last command's stdout, failing if there is none
func Cmds(own map[string]func(ts *testscript.TestScript, neg bool, args []string)) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"mode":     cmdMode,
		"waitsock": cmdWaitsock,
		"capture":  cmdCapture,
		"nocanary": cmdNoCanary,
	}
	for name, f := range own {
		if cmds[name] != nil {
			panic("testkit: a package's command hides the shared " + name)
		}
		cmds[name] = f
	}
	return cmds
}

func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: capture NAME REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile("stdout"))
	if len(m) < 2 {
		ts.Fatalf("capture %s: no match for %s in stdout", args[0], args[1])
	}
	ts.Setenv(args[0], m[1])
}

func cmdNoCanary(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: nocanary DIR WORD...")
	}
	found, files, err := FindCanariesInDir(ts.MkAbs(args[0]), args[1:])
	ts.Check(err)
	if files == 0 {
		ts.Fatalf("nocanary: no files under %s", args[0])
	}
	if len(found) > 0 {
		ts.Fatalf("nocanary: %s", strings.Join(found, "; "))
	}
}

func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode FILE PERM")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	if got := fi.Mode().Perm(); (uint64(got) == want) == neg {
		not := ""
		if neg {
			not = "not "
		}
		ts.Fatalf("%s has mode %#o, want %s%#o", args[0], got, not, want)
	}
}

func cmdWaitsock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitsock PATH")
	}
	sock := ts.MkAbs(args[0])
	err := WaitFor(Patience, func() bool {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	if err != nil {
		ts.Fatalf("nothing answers on %s: %v", args[0], err)
	}
}

// Patience is how long a test waits for something that normally takes
// milliseconds: a last guard against a hang on a very busy machine, never
// a way to synchronise.
const Patience = 30 * time.Second

// WaitFor polls cond until it holds, and fails once timeout has passed.
func WaitFor(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("still waiting after %v", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// UnixClient returns an HTTP client whose every connection goes to the
// unix socket sock, whatever the URL's host.
func UnixClient(sock string) *http.Client {
	return &http.Client{Timeout: Patience, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
}
