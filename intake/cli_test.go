package intake

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestMainExitStatus(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "")
	missing := filepath.Join(dir, "missing.toml")
	for _, tc := range []struct {
		args   []string
		status int
		want   string // on stderr, or on stdout when the status is 0
	}{
		{nil, 2, "Usage:"},
		{[]string{"help"}, 0, "Usage:"},
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"check"}, 2, "--config FILE is required"},
		{[]string{"check", "--config", cfg, "more"}, 2, `unexpected argument "more"`},
		{[]string{"check", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"check", "--config", cfg}, 0, "config OK: Hillside School"},
		{[]string{"check", "--config", missing}, 1, "intake: hint: to make one, run: intake init --config " + missing},
		{[]string{"init", "--config", cfg}, 1, "intake: hint: edit the config that is there"},
		{[]string{"serve"}, 2, "--demo to try it out"},
		{[]string{"serve", "--config", missing}, 1, "intake: hint: to make one"},
		{[]string{"backup", "--data", dir, "--out", filepath.Join(dir, "b.db")}, 1, "intake: no store in " + dir},
	} {
		var stdout, stderr bytes.Buffer
		status := Main(tc.args, &stdout, &stderr)
		out := stderr.String()
		if tc.status == 0 {
			out = stdout.String()
		}
		if status != tc.status || !strings.Contains(out, tc.want) {
			t.Errorf("intake %s = %d, want %d with %q\nstdout:\n%s\nstderr:\n%s",
				strings.Join(tc.args, " "), status, tc.status, tc.want, stdout.String(), stderr.String())
		}
	}
}

// A backup while the server holds the store says so, and how to get one.
func TestBackupWhileServing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	var stdout, stderr bytes.Buffer
	status := Main([]string{"backup", "--data", e.dataDir, "--out", filepath.Join(t.TempDir(), "b.db")}, &stdout, &stderr)
	want := "intake: the server is running and holds the store\n" +
		"intake: hint: set backup_dir in its config for a verified backup every day while it runs, or stop it and run intake backup again\n"
	if status != 1 || stderr.String() != want {
		t.Errorf("backup of a store in use = %d\n%s", status, stderr.String())
	}
}
