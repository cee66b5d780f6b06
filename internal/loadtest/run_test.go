package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func testConfig(u string, conc ...int) Config {
	return Config{URL: u, Duration: 200 * time.Millisecond, MaxRequests: 100000, Concurrency: conc, Lang: "en"}
}

func TestRunSubmitFlow(t *testing.T) {
	f := newFixture(t, nil)
	c := testConfig(f.URL, 1, 4)
	if runtime.GOOS == "linux" {
		c.PID = os.Getpid()
	}
	var out strings.Builder
	c.Out = &out
	res, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Levels) != 2 {
		t.Fatalf("got %d levels", len(res.Levels))
	}
	var submitted, checked int
	for _, l := range res.Levels {
		if l.Accepted == 0 || l.Accepted != l.Submitted || l.Submit.N != l.Accepted || len(l.Errors) != 0 {
			t.Errorf("level %d: %d of %d accepted, errors %v", l.Concurrency, l.Accepted, l.Submitted, l.Errors)
		}
		// One in ten accepted submissions is checked, give or take the
		// ones cut off by the deadline.
		if l.Checked == 0 || l.CheckOK != l.Checked || l.Checked > l.Accepted/checkEvery+1 || l.Checked < l.Accepted/checkEvery-l.Concurrency {
			t.Errorf("level %d: %d checks (%d ok) for %d accepted", l.Concurrency, l.Checked, l.CheckOK, l.Accepted)
		}
		if l.Rate() <= 0 || l.Submit.P50 <= 0 || l.Submit.P99 < l.Submit.P50 || l.Submit.Max < l.Submit.P99 {
			t.Errorf("level %d: implausible figures %+v", l.Concurrency, l.Submit)
		}
		if l.Elapsed < c.Duration || l.Elapsed > c.Duration+requestTimeout {
			t.Errorf("level %d ran %v for a %v duration", l.Concurrency, l.Elapsed, c.Duration)
		}
		// VmHWM can read lower after a level than before it: the kernel
		// updates its high-water mark lazily, and reclaim lowers RSS without
		// updating it. So the test asks that memory was read, not that it grew.
		if c.PID != 0 && (!l.Memory || l.RSSMax <= 0 || l.HWMBefore <= 0 || l.HWMAft <= 0) {
			t.Errorf("level %d: memory not measured: %+v", l.Concurrency, l)
		}
		submitted += l.Submitted
		checked += l.Checked
	}
	if int(f.reports.Load()) != submitted || int(f.checks.Load()) != checked {
		t.Errorf("server saw %d reports and %d checks, benchmark counted %d and %d",
			f.reports.Load(), f.checks.Load(), submitted, checked)
	}
	// The fixture's pages meet the page goal; throughput at 64 was not run.
	if res.Verdict.Pass || len(res.Verdict.Reasons) != 1 || !strings.Contains(res.Verdict.Reasons[0], "not measured") {
		t.Errorf("verdict = %+v", res.Verdict)
	}
	for _, s := range []string{"page weight", "subs/s", "verdict: FAIL", "fields: message,danger,route"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
	t.Logf("\n%s", out.String())
}

func TestMaxRequestsBoundsLevel(t *testing.T) {
	f := newFixture(t, nil)
	c := testConfig(f.URL, 4)
	c.Duration = time.Minute
	c.MaxRequests = 25
	start := time.Now()
	res, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	l := res.Levels[0]
	if l.Submitted+l.Checked != 25 || int(f.reports.Load()+f.checks.Load()) != 25 {
		t.Errorf("sent %d submissions and %d checks (server saw %d), want 25 in all",
			l.Submitted, l.Checked, f.reports.Load()+f.checks.Load())
	}
	if time.Since(start) > 30*time.Second { // far below the minute it was given
		t.Errorf("a 25-request level took %v", time.Since(start))
	}
}

func TestFailingServerCountsErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		kind    string
	}{
		{"overloaded", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}, "report status 503"},
		{"no receipt", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `<p>Thank you.</p>`)
		}, "report without receipt"},
		{"echoes message", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			fmt.Fprintf(w, `<strong id="receipt">ABCD-EFGH-JKMN-PQRS-TVWX-Y</strong><p>You wrote: %s</p>`, r.PostForm.Get("message"))
		}, "report echoes message"},
		{"hangs up", func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}, "network eof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.handler)
			res, err := Run(context.Background(), testConfig(f.URL, 2))
			if !errors.Is(err, ErrAllFailed) {
				t.Fatalf("Run error = %v, want ErrAllFailed", err)
			}
			l := res.Levels[0]
			if l.Submitted == 0 || l.Accepted != 0 || l.Errors[tt.kind] != l.Submitted || len(l.Errors) != 1 {
				t.Errorf("%d submitted, %d accepted, errors %v; want all %q", l.Submitted, l.Accepted, l.Errors, tt.kind)
			}
			if int(f.reports.Load()) != l.Submitted {
				t.Errorf("server saw %d, benchmark counted %d", f.reports.Load(), l.Submitted)
			}
		})
	}
}

func TestCheckFailuresCounted(t *testing.T) {
	// Receipts the check handler does not know: every check answers 404.
	f := newFixture(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<strong id="receipt">ABCD-EFGH-JKMN-PQRS-TVWX-Y</strong>`)
	})
	res, err := Run(context.Background(), testConfig(f.URL, 2))
	if err != nil {
		t.Fatal(err)
	}
	l := res.Levels[0]
	if l.Checked == 0 || l.CheckOK != 0 || l.Errors["check status 404"] != l.Checked {
		t.Errorf("%d checks, %d ok, errors %v", l.Checked, l.CheckOK, l.Errors)
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Run(context.Background(), testConfig("http://"+addr, 1))
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("Run against a closed port = %v, want ErrUnreachable", err)
	}
}

func TestConfigRejects(t *testing.T) {
	for _, c := range []Config{
		testConfig("http://192.0.2.1:8080", 1),
		testConfig("http://example.org", 1),
		testConfig("ftp://127.0.0.1", 1),
		testConfig("http://127.0.0.1:1", []int{}...),
		{URL: "http://127.0.0.1:1", Duration: time.Second, MaxRequests: 1, Concurrency: []int{1}, Lang: "en/../x"},
		{URL: "http://127.0.0.1:1", Duration: time.Second, MaxRequests: 1, Concurrency: []int{1}, Lang: "en", PID: -5},
	} {
		if _, err := Run(context.Background(), c); err == nil || errors.Is(err, ErrUnreachable) {
			t.Errorf("Run(%+v) = %v, want a configuration error", c, err)
		}
	}
	for _, s := range []string{"", "0", "1,x", "-1", "1,,8"} {
		if _, err := ParseConcurrency(s); err == nil {
			t.Errorf("ParseConcurrency(%q) accepted", s)
		}
	}
	if got, err := ParseConcurrency("1, 8,64"); err != nil || len(got) != 3 || got[2] != 64 {
		t.Errorf("ParseConcurrency = %v, %v", got, err)
	}
}

func TestJudge(t *testing.T) {
	good := []PageWeight{{Path: "/", Status: 200, TotalBytes: 9000, Requests: 1}, {Path: "/en/report", Status: 200, TotalBytes: 9000, Requests: 1}}
	fast := &Level{Concurrency: 64, Elapsed: time.Second, Accepted: 900, Submit: Latencies{N: 900, P99: 40 * time.Millisecond}}
	if v := Judge(good, []*Level{fast}, "en"); !v.Pass {
		t.Errorf("good figures failed: %v", v.Reasons)
	}
	slow := &Level{Concurrency: 64, Elapsed: time.Second, Accepted: 500, Submit: Latencies{N: 500, P99: 200 * time.Millisecond}}
	if v := Judge(good, []*Level{slow}, "en"); v.Pass || len(v.Reasons) != 2 {
		t.Errorf("slow level: %+v", v)
	}
	heavy := append([]PageWeight{}, good...)
	heavy[1].Scripts = 1
	heavy = append(heavy, PageWeight{Path: "/en/safety", Status: 200, TotalBytes: 1 << 20, Requests: 9})
	if v := Judge(heavy, []*Level{fast}, "en"); v.Pass || len(v.Reasons) != 1 || !strings.HasPrefix(v.Reasons[0], "/en/report: script") {
		t.Errorf("page with a script: %+v", v)
	}
}

func TestMessage(t *testing.T) {
	seen := map[string]bool{}
	rng := newTestRand()
	for range 200 {
		m := Message(rng)
		if len(m) < 550 || len(m) > 700 {
			t.Fatalf("message of %d bytes", len(m))
		}
		seen[m] = true
	}
	if len(seen) != 200 {
		t.Errorf("only %d distinct messages in 200", len(seen))
	}
}
