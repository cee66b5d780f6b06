package deploy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hearken-project/hearken/internal/onion"
)

// unitSettings reads a systemd unit's "Key=value" lines (comments and
// section headers left out), in order.
func unitSettings(t *testing.T, name string) [][2]string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "[") {
			continue
		}
		k, v, _ := strings.Cut(l, "=")
		out = append(out, [2]string{k, v})
	}
	return out
}

func setting(kvs [][2]string, key string) []string {
	var vs []string
	for _, kv := range kvs {
		if kv[0] == key {
			vs = append(vs, kv[1])
		}
	}
	return vs
}

// The onion unit serves on unix sockets only and runs with no network at
// all; its sockets are the ones the torrc forwards to, and the SSH one is in
// the folder the tmpfiles line makes for the hearken-staff group.
func TestOnionUnit(t *testing.T) {
	unit := unitSettings(t, "hearken-intake.service")
	exec := setting(unit, "ExecStart")
	if len(exec) != 1 {
		t.Fatalf("ExecStart = %q", exec)
	}
	args := strings.Fields(exec[0])
	var listeners []string
	for i, a := range args {
		if strings.HasSuffix(a, "-listen") && i+1 < len(args) {
			if a != "--listen" && a != "--staff-listen" {
				t.Errorf("the onion unit has %s", a)
			}
			listeners = append(listeners, args[i+1])
		}
	}
	want := []string{"unix:" + intakeSocket, "unix:" + staffSocket, "unix:/run/hearken/staff.sock"}
	if !slices.Equal(listeners, want) {
		t.Errorf("listeners %q, want %q", listeners, want)
	}
	raw, _ := readTorrc(t)
	for _, sock := range []string{intakeSocket, staffSocket} {
		if !bytes.Contains(raw, []byte("\nHiddenServicePort 80 unix:"+sock+"\n")) {
			t.Errorf("the torrc does not forward to %s", sock)
		}
	}
	for key, want := range map[string]string{
		"PrivateNetwork":          "yes",
		"RestrictAddressFamilies": "AF_UNIX",
		"IPAddressDeny":           "any",
		"ReadWritePaths":          "/var/lib/hearken /run/hearken",
		"PrivateMounts":           "yes",
		"CapabilityBoundingSet":   "",
		"NoNewPrivileges":         "yes",
		"ExecReload":              "/bin/kill -HUP $MAINPID",
	} {
		if v := setting(unit, key); len(v) != 1 || v[0] != want {
			t.Errorf("%s = %q, want %q", key, v, want)
		}
	}
	if v := setting(unit, "IPAddressAllow"); len(v) != 0 {
		t.Errorf("IPAddressAllow = %q: the unit has no network to allow", v)
	}
	tmpfiles, err := os.ReadFile("hearken-tmpfiles.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(tmpfiles, []byte("\nd /run/hearken 2750 hearken hearken-staff -\n")) {
		t.Error("hearken-tmpfiles.conf does not make /run/hearken for the hearken-staff group")
	}
}

// The onion unit's exposure is at most 1.0, and what README.md says it is.
func TestOnionUnitExposure(t *testing.T) {
	got := exposure(t, "hearken-intake.service")
	if got > 1.0 {
		t.Errorf("systemd-analyze security: exposure %v, want at most 1.0", got)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`the onion unit reports an exposure of\s+\*\*([0-9.]+) [A-Z]+\*\*`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md does not state the onion unit's exposure")
	}
	if stated, _ := strconv.ParseFloat(string(m[1]), 64); stated != got {
		t.Errorf("README.md states exposure %v; systemd-analyze measures %v", stated, got)
	}
}

// systemd-analyze verify finds nothing wrong with any unit here. The
// intake binary is not installed on a build machine, so a copy of each
// unit names this test program in its place.
func TestUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	units, _ := filepath.Glob("hearken-*.s*")
	var paths []string
	for _, u := range units {
		if !strings.HasSuffix(u, ".service") && !strings.HasSuffix(u, ".socket") {
			continue
		}
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, u)
		if err := os.WriteFile(p, bytes.ReplaceAll(b, []byte("/usr/local/bin/intake"), []byte(self)), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if len(paths) < 4 {
		t.Fatalf("units: %q", paths)
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, paths...)...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// The alert relay's own command, systemd-socket-proxyd, passes bytes both
// ways between the socket intake connects to and a server, as
// systemd would run it (socket activation, here by systemd-socket-activate).
func TestAlertRelay(t *testing.T) {
	activate, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Skip("systemd-socket-activate is not installed")
	}
	unit := unitSettings(t, "hearken-alert-relay.service")
	args := strings.Fields(setting(unit, "ExecStart")[0])
	if _, err := os.Stat(args[0]); err != nil {
		t.Skipf("%s is not installed", args[0])
	}
	if listen := setting(unitSettings(t, "hearken-alert-relay.socket"), "ListenStream"); len(listen) != 1 || listen[0] != "/run/hearken-alert-relay/mail.sock" {
		t.Fatalf("ListenStream = %q", listen)
	}
	// The server: an echo, standing in for the mail server.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	if args[len(args)-1] != "mail.school.example:587" {
		t.Fatalf("the relay's destination is %q", args[len(args)-1])
	}
	args[len(args)-1] = l.Addr().String()
	sock := filepath.Join(t.TempDir(), "mail.sock")
	cmd := exec.Command(activate, append([]string{"-l", sock}, args...)...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var conn net.Conn
	deadline := time.Now().Add(30 * time.Second)
	for {
		if conn, err = net.Dial("unix", sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on the relay's socket: %v\n%s", err, logs.String())
		}
		time.Sleep(20 * time.Millisecond) // polling for the socket, not a pause
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	const hello = "EHLO localhost\r\n"
	if _, err := io.WriteString(conn, hello); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(hello))
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != hello {
		t.Fatalf("through the relay: %q, %v\n%s", got, err, logs.String())
	}
}

// README.md's troubleshooting quotes tor's errors as reviewer prints them.
func TestREADMEQuotesTorErrors(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []error{onion.ErrTorNotRunning, onion.ErrNoKey, onion.ErrKeyRefused, onion.ErrUnreachable, onion.ErrBadAddress} {
		if !bytes.Contains(readme, []byte(e.Error())) {
			t.Errorf("README.md does not quote %q", e)
		}
	}
}
