package intake

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/vault"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// readReports stores n reports the team has fetched, so only age can
// expire them.
func readReports(t *testing.T, store *vault.Store, cfg *config, n int) {
	t.Helper()
	for range n {
		e := &vault.Envelope{Fields: []vault.Field{{Name: "message", Value: "x"}}}
		if _, err := store.CreateThread("safeguarding", e, cfg.Routes[0].Team.Recipients()); err != nil {
			t.Fatal(err)
		}
	}
	items, _, _ := store.Pending("", 1000, nil, "")
	for _, it := range items {
		store.Ack(it.ID, "m", nil)
	}
}

// The daily chores' log says what a wrong clock or an unusually large
// deletion means, and the exact command for this server that resolves it.
func TestMaintainAdvice(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, "")
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	cmd := retentionCommand(cfgPath, dataDir)
	if cmd != "intake retention --config "+cfgPath+" --data "+dataDir {
		t.Fatalf("command %q", cmd)
	}
	c := &fakeClock{time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	store, err := openStoreOpts(dataDir, &vault.Options{Now: c.now, RetentionDays: cfg.RetentionDays})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	readReports(t, store, cfg, 12)

	chores := func() string {
		var logs testkit.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // one round of chores
		maintain(ctx, store, cfg, zerolog.New(&logs), dataDir, cmd, nil, 0)
		return logs.String()
	}
	chores()
	for _, tc := range []struct {
		name string
		now  time.Time
		want []string
	}{
		{"ahead", time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC), []string{
			"the clock reads 2027-02-01, 245 days after 2026-06-01, the last day the store trusted",
			"new reports are stamped 2026-06-01",
			"If the date is right (the server was off that long), stop the service and run: " + cmd + " --confirm-date"}},
		{"behind", time.Date(2001, 1, 1, 9, 0, 0, 0, time.UTC), []string{
			"the clock reads 2001-01-01, 9282 days before 2026-06-01",
			"retention resumes by itself once it reads 2026-06-01 or later",
			"stop the service and run: " + cmd + " --confirm-date"}},
	} {
		c.t = tc.now
		logs := chores()
		for _, w := range tc.want {
			if !strings.Contains(logs, w) {
				t.Errorf("%s: the log does not say %q:\n%s", tc.name, w, logs)
			}
		}
		t.Logf("%s: the operator sees:\n%s", tc.name, logs)
	}
	// A hundred days on, with the date confirmed: all twelve would go.
	c.t = time.Date(2026, 9, 9, 9, 0, 0, 0, time.UTC)
	store.TrustToday()
	logs := chores()
	if want := "retention paused: if that is right (the server was off for a long time, or retention_days was lowered), stop the service and run: " + cmd + " --allow-large"; !strings.Contains(logs, want) || !strings.Contains(logs, "12 of 12 threads") {
		t.Errorf("large deletion: the log does not say %q:\n%s", want, logs)
	}
	t.Logf("large: the operator sees:\n%s", logs)
}

// intake retention: the store trusted a day in the future (a clock that
// was set ahead, then put right); the operator sees why retention is
// paused, confirms the date, and runs a large deletion the server would
// not do by itself.
func TestRetentionCommand(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, "")
	cfg, _ := loadConfig(cfgPath)
	dataDir := filepath.Join(dir, "data")
	now := time.Now()
	c := &fakeClock{now.AddDate(0, 0, -200)}
	store, err := openStoreOpts(dataDir, &vault.Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	readReports(t, store, cfg, 12)
	c.t = now.AddDate(0, 0, 3)
	store.TrustToday() // the clock ran three days ahead, and the store went along
	store.Close()

	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		status := Main(append([]string{"retention", "--config", cfgPath, "--data", dataDir}, args...), &stdout, &stderr)
		return status, stdout.String(), stderr.String()
	}
	status, out, _ := run()
	if status != 0 || !strings.Contains(out, "days before") || !strings.Contains(out, "--confirm-date") {
		t.Fatalf("status %d:\n%s", status, out)
	}
	t.Logf("intake retention:\n%s", out)
	status, out, _ = run("--confirm-date")
	if status != 0 || !strings.Contains(out, "The store now trusts today's date, ") ||
		!strings.Contains(out, "would delete 12 of 12 threads") || !strings.Contains(out, "--allow-large") {
		t.Fatalf("--confirm-date: status %d:\n%s", status, out)
	}
	t.Logf("intake retention --confirm-date:\n%s", out)
	status, out, _ = run("--allow-large")
	if status != 0 || !strings.Contains(out, "Retention deleted 12 threads") {
		t.Fatalf("--allow-large: status %d:\n%s", status, out)
	}
	status, out, _ = run()
	if status != 0 || !strings.Contains(out, "would delete 0 of 0 threads") {
		t.Fatalf("afterwards: status %d:\n%s", status, out)
	}

	// While the server holds the store, it says to stop it.
	store, _ = openStore(dataDir, cfg)
	defer store.Close()
	status, _, errOut := run()
	if status != 1 || !strings.Contains(errOut, "stop it (systemctl stop hearken-intake)") {
		t.Fatalf("while serving: %d\n%s", status, errOut)
	}
}
