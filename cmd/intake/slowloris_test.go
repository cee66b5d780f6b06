package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hearken-project/hearken/internal/loadtest"
)

// siege holds conns slowloris connections open to a fresh intake serve
// while reporters report for d, and returns what the reporters saw and
// what the attack saw.
func siege(t testing.TB, conns, reporters int, d time.Duration) (*intakeProcess, *loadtest.Level, loadtest.SlowlorisStats) {
	t.Helper()
	p := startIntake(t, "submissions_per_minute = 1000000\n")
	ctx := context.Background()
	attack := loadtest.StartSlowloris(ctx, loadtest.SlowlorisOptions{Dial: p.dial, Conns: conns})
	lvl := p.reporters(ctx, t, reporters, d, 1<<20, 0, nil)
	return p, lvl, attack.Stop()
}

// TestSlowloris holds 1,000 slowloris connections open to the real server
// (half trickling headers, half trickling a photo's body, a byte every two
// seconds each) while eight reporters report and check: every one of their
// requests must be answered, the server's memory must stay under 200 MiB,
// and it must still be up afterwards. How fast they were answered is
// BenchmarkSlowloris's to print, not a test's to assert.
func TestSlowloris(t *testing.T) {
	if testing.Short() {
		t.Skip("holds 1,000 connections for 15 seconds")
	}
	p, lvl, st := siege(t, loadtest.SiegeConns, 8, 15*time.Second)
	t.Logf("slowloris: %s; reporters: %d reports (p50 %v, p99 %v), %d checks (p99 %v), errors %v; server peak RSS %.1f MiB",
		st, lvl.Accepted, lvl.Submit.P50, lvl.Submit.P99, lvl.CheckOK, lvl.Check.P99, lvl.Errors, mib(peakRSS(lvl)))
	if st.Peak < loadtest.SiegeConns {
		t.Errorf("only %d attacking connections were open at once", st.Peak)
	}
	if lvl.ErrorCount() > 0 || lvl.Accepted == 0 || lvl.CheckOK != lvl.Checked {
		t.Errorf("ordinary reporters under attack: %d accepted, %d of %d checks, errors %v", lvl.Accepted, lvl.CheckOK, lvl.Checked, lvl.Errors)
	}
	if !lvl.Memory || peakRSS(lvl) > loadtest.SiegeMaxRSS {
		t.Errorf("server peak RSS %.1f MiB (measured: %v), want at most %d MiB", mib(peakRSS(lvl)), lvl.Memory, loadtest.SiegeMaxRSS>>20)
	}
	if !p.alive() {
		t.Fatalf("the server is down after the attack:\n%s", p.stderr)
	}
}

// BenchmarkSlowloris prints the ordinary reporters' latency and the
// server's peak memory under 1,000 slowloris connections (goal: p99 under
// 1 s, at most 200 MiB):
//
//	go test -run '^$' -bench Slowloris -benchtime 1x ./cmd/intake/
func BenchmarkSlowloris(b *testing.B) {
	for b.Loop() {
		_, lvl, st := siege(b, loadtest.SiegeConns, 8, 30*time.Second)
		b.Logf("slowloris: %s", st)
		b.Logf("reporters: %d reports, %.0f/s, p50 %v, p99 %v, max %v; %d checks, p99 %v; errors %v; server peak RSS %.1f MiB",
			lvl.Accepted, lvl.Rate(), lvl.Submit.P50, lvl.Submit.P99, lvl.Submit.Max, lvl.CheckOK, lvl.Check.P99, lvl.Errors, mib(peakRSS(lvl)))
		v := loadtest.JudgeSiege([]*loadtest.Level{lvl}, st)
		b.Logf("goals met: %v %s", v.Pass, strings.Join(v.Reasons, "; "))
		b.ReportMetric(float64(lvl.Submit.P99.Milliseconds()), "report-p99-ms")
		b.ReportMetric(float64(lvl.Check.P99.Milliseconds()), "check-p99-ms")
		b.ReportMetric(mib(peakRSS(lvl)), "peak-RSS-MiB")
		b.ReportMetric(float64(lvl.ErrorCount()), "failed-requests")
	}
}
