package main

import (
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hearken-project/hearken/internal/loadtest"
)

// What ordinary reporters do while a server is under attack, measured by
// internal/loadtest's report flow against the real intake serve: reports
// of about 600 bytes, one in ten followed by a check of its receipt.

func (p *intakeProcess) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", p.sock)
}

// reporters runs the report flow against p with n reporters until d has
// passed or max requests were made, measuring p's memory. rate, if
// positive, paces all of them together to that many reports a second;
// receipt, if not nil, is given each receipt shown.
func (p *intakeProcess) reporters(ctx context.Context, t testing.TB, n int, d time.Duration, max int, rate float64, receipt func(string)) *loadtest.Level {
	t.Helper()
	base := &url.URL{Scheme: "http", Host: "intake"}
	return loadtest.RunLevel(ctx, loadtest.LevelOptions{
		Base: base, Lang: "en", Concurrency: n, Duration: d, MaxRequests: max,
		ReportForm: p.formDefaults(t, "/en/report"), CheckForm: p.formDefaults(t, "/en/check"),
		PID: p.pid, Seed: 1, Dial: p.dial, Rate: rate, Receipt: receipt,
	})
}

// formDefaults returns what a browser would send of the form at path
// besides what the reporter types (hidden fields, default choices).
func (p *intakeProcess) formDefaults(t testing.TB, path string) url.Values {
	t.Helper()
	resp, err := p.client.Get("http://intake" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return loadtest.FormDefaults(body)
}

// opens reports whether code opens its thread.
func (p *intakeProcess) opens(t testing.TB, code string) bool {
	t.Helper()
	resp, err := p.client.PostForm("http://intake/en/check", url.Values{"receipt": {code}})
	if err != nil {
		t.Fatalf("checking a receipt: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("checking a receipt: %v", err)
	}
	return resp.StatusCode == http.StatusOK && loadtest.ShowsThread(body)
}

// alive reports whether p is still running and answering.
func (p *intakeProcess) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
	}
	return p.get("/healthz")
}

// signal sends sig to p and waits for it to exit.
func (p *intakeProcess) signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(2 * time.Minute): // a last guard, not a wait
		t.Fatalf("intake did not exit on %v", sig)
	}
}

// receipts collects the receipts a run of reporters was shown.
type receipts struct {
	mu    sync.Mutex
	codes []string
}

func (r *receipts) add(code string) {
	r.mu.Lock()
	r.codes = append(r.codes, code)
	r.mu.Unlock()
}

func (r *receipts) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.codes)
}

func (r *receipts) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.codes...)
}

func peakRSS(l *loadtest.Level) int64 { return max(l.RSSMax, l.HWMAft) }

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// TestFlood sends reports at ten times the shipped rate limit (30 a
// minute) for 20 seconds: the limit holds (no more receipts than the
// token bucket allows: its 30, and 30 a minute more), every other report
// is told calmly to wait (503), every receipt shown opens its thread, the
// memory stays bounded and the server stays up.
func TestFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("floods the server for 20 seconds")
	}
	const perMinute = 30 // the default, so the shipped limit is what is tested
	p := startIntake(t, "")
	var shown receipts
	start := time.Now()
	lvl := p.reporters(context.Background(), t, 16, 20*time.Second, 1<<20, 10*perMinute/60.0, shown.add)
	elapsed := time.Since(start)
	allowed := perMinute + int(math.Ceil(elapsed.Minutes()*perMinute))
	t.Logf("flood: %d reports in %v, %d receipts (at most %d allowed), answers %v, server peak RSS %.1f MiB",
		lvl.Submitted, elapsed.Round(time.Millisecond), lvl.Accepted, allowed, lvl.Errors, mib(peakRSS(lvl)))
	if lvl.Submitted < 8*perMinute*int(elapsed.Seconds())/60 {
		t.Fatalf("only %d reports sent: not a flood", lvl.Submitted)
	}
	if lvl.Accepted > allowed || lvl.Accepted < perMinute {
		t.Errorf("%d receipts: the limit allows %d, and its first %d at once", lvl.Accepted, allowed, perMinute)
	}
	for kind, n := range lvl.Errors {
		if kind != "report status 503" {
			t.Errorf("%d answers %q: a refused report must be a calm 503", n, kind)
		}
	}
	if !lvl.Memory || peakRSS(lvl) > loadtest.SiegeMaxRSS {
		t.Errorf("server peak RSS %.1f MiB, want at most %d MiB", mib(peakRSS(lvl)), loadtest.SiegeMaxRSS>>20)
	}
	for _, code := range shown.all() {
		if !p.opens(t, code) {
			t.Fatal("a receipt shown during the flood does not open its thread")
		}
	}
	if !p.alive() {
		t.Fatalf("the server is down after the flood:\n%s", p.stderr)
	}
}
