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
	staffServiceDir  = "/var/lib/tor/hearken-staff/"
	intakeSocket     = "/var/lib/hearken/intake.sock"
	staffSocket      = "/var/lib/hearken/staff.sock"
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
// removing one is a deliberate change. Options after a HiddenServiceDir
// belong to that service, as tor reads them.
func TestTorrcSettings(t *testing.T) {
	_, lines := readTorrc(t)
	global := map[string][]string{}
	services := map[string]map[string][]string{}
	var order []string
	var cur map[string][]string
	for _, l := range lines {
		if !l.commented {
			t.Errorf("%s has no comment explaining it", l.key)
		}
		if l.key == "HiddenServiceDir" {
			cur = map[string][]string{}
			services[l.value] = cur
			order = append(order, l.value)
			continue
		}
		if strings.HasPrefix(l.key, "HiddenService") && l.key != "HiddenServiceNonAnonymousMode" {
			if cur == nil {
				t.Fatalf("%s comes before any HiddenServiceDir", l.key)
			}
			cur[l.key] = append(cur[l.key], l.value)
			continue
		}
		global[l.key] = append(global[l.key], l.value)
	}
	if len(order) != 2 || order[0] != hiddenServiceDir || order[1] != staffServiceDir {
		t.Fatalf("services %q, want the public one (%s) and the staff one (%s)", order, hiddenServiceDir, staffServiceDir)
	}
	pin := func(where string, got map[string][]string, want map[string]string) {
		for key, w := range want {
			if v := got[key]; len(v) != 1 || v[0] != w {
				t.Errorf("%s: %s = %q, want exactly %q", where, key, v, w)
			}
		}
	}
	pin("global", global, map[string]string{
		"HiddenServiceNonAnonymousMode": "0",
		"Log":                           "notice syslog",
		"SafeLogging":                   "1",
	})
	public := services[hiddenServiceDir]
	pin("public service", public, map[string]string{
		"HiddenServiceVersion":                "3",
		"HiddenServicePort":                   "80 unix:" + intakeSocket,
		"HiddenServicePoWDefensesEnabled":     "1",
		"HiddenServiceEnableIntroDoSDefense":  "1",
		"HiddenServiceMaxStreamsCloseCircuit": "1",
	})
	for _, key := range []string{"HiddenServiceEnableIntroDoSRatePerSec", "HiddenServiceEnableIntroDoSBurstPerSec", "HiddenServiceMaxStreams"} {
		if v := public[key]; len(v) != 1 || v[0] == "0" {
			t.Errorf("public service: %s = %q, want one non-zero limit", key, v)
		}
	}
	pin("staff service", services[staffServiceDir], map[string]string{
		"HiddenServiceVersion":                "3",
		"HiddenServicePort":                   "80 unix:" + staffSocket,
		"HiddenServiceMaxStreamsCloseCircuit": "1",
	})
	// A SocksPort line would override the distribution's local proxy that
	// a reviewer on this machine may need; the choice is left to a comment.
	if _, ok := global["SocksPort"]; ok {
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
	staffDir := filepath.Join(dir, "staff") + "/"
	// tor refuses a service directory that others can read.
	for _, d := range []string{hsDir, staffDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for old, repl := range map[string]string{
		hiddenServiceDir: hsDir,
		staffServiceDir:  staffDir,
		intakeSocket:     filepath.Join(dir, "intake.sock"),
		staffSocket:      filepath.Join(dir, "staff.sock"),
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
