package deploy

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const (
	hiddenServiceDir = "/var/lib/tor/hearken/"
	intakeSocket     = "/var/lib/hearken/intake.sock"
)

type torrcLine struct {
	key, value string
	commented  bool // preceded directly by a comment line
}

func readTorrc(t *testing.T) (raw []byte, lines []torrcLine) {
	t.Helper()
	raw, err := os.ReadFile("torrc")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	prevComment := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			prevComment = false
		case strings.HasPrefix(line, "#"):
			prevComment = true
		default:
			key, value, _ := strings.Cut(line, " ")
			lines = append(lines, torrcLine{key, strings.TrimSpace(value), prevComment})
			prevComment = false
		}
	}
	return raw, lines
}

// TestTorrcSettings pins the settings Hearken's threat model depends on, so
// removing one is a deliberate change.
func TestTorrcSettings(t *testing.T) {
	_, lines := readTorrc(t)
	got := map[string][]string{}
	for _, l := range lines {
		if !l.commented {
			t.Errorf("%s has no comment explaining it", l.key)
		}
		got[l.key] = append(got[l.key], l.value)
	}
	for key, want := range map[string]string{
		"HiddenServiceDir":                    hiddenServiceDir,
		"HiddenServiceVersion":                "3",
		"HiddenServicePort":                   "80 unix:" + intakeSocket,
		"HiddenServiceNonAnonymousMode":       "0",
		"HiddenServicePoWDefensesEnabled":     "1",
		"HiddenServiceEnableIntroDoSDefense":  "1",
		"HiddenServiceMaxStreamsCloseCircuit": "1",
		"Log":                                 "notice syslog",
		"SafeLogging":                         "1",
	} {
		if v := got[key]; len(v) != 1 || v[0] != want {
			t.Errorf("%s = %q, want exactly %q", key, v, want)
		}
	}
	for _, key := range []string{"HiddenServiceEnableIntroDoSRatePerSec", "HiddenServiceEnableIntroDoSBurstPerSec", "HiddenServiceMaxStreams"} {
		if v := got[key]; len(v) != 1 || v[0] == "0" {
			t.Errorf("%s = %q, want one non-zero limit", key, v)
		}
	}
	// A SocksPort line would override the distribution's local proxy that
	// a reviewer on this machine may need; the choice is left to a comment.
	if _, ok := got["SocksPort"]; ok {
		t.Errorf("SocksPort is set; leave it to the distribution default")
	}
}

// TestTorrcVerifies asks the installed tor to check the configuration, with
// its paths moved into a temporary directory so it runs unprivileged.
func TestTorrcVerifies(t *testing.T) {
	tor, err := exec.LookPath("tor")
	if err != nil {
		t.Skip("tor is not installed")
	}
	raw, _ := readTorrc(t)
	dir := t.TempDir()
	hsDir := filepath.Join(dir, "hs") + "/"
	// tor refuses a service directory that others can read.
	if err := os.Mkdir(hsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for old, repl := range map[string]string{
		hiddenServiceDir: hsDir,
		intakeSocket:     filepath.Join(dir, "intake.sock"),
	} {
		if !bytes.Contains(raw, []byte(old)) {
			t.Fatalf("torrc does not mention %s", old)
		}
		raw = bytes.ReplaceAll(raw, []byte(old), []byte(repl))
	}
	conf := filepath.Join(dir, "torrc")
	defaults := filepath.Join(dir, "torrc-defaults")
	if err := os.WriteFile(conf, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(defaults, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tor, "--verify-config", "-f", conf,
		"--defaults-torrc", defaults,
		"--DataDirectory", filepath.Join(dir, "data"))
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("Configuration was valid")) {
		t.Fatalf("tor --verify-config failed: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		// Running the test as root is expected; any other warning is not.
		if strings.Contains(l, "[warn]") && !strings.Contains(l, "running Tor as root") {
			t.Errorf("tor warned: %s", l)
		}
	}
}
