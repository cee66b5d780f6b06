package intake

import (
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
)

// BenchmarkSubmitReport measures the whole submit handler (form parsing,
// sealing to the team, the durable commit and the receipt page) from 64
// concurrent reporters, without the network. The load command in
// cmd/hearken-load measures the same flow over loopback.
func BenchmarkSubmitReport(b *testing.B) {
	env := newEnv(b, "[limits]\nmax_concurrent_submissions = 64\nsubmissions_per_minute = 100000000\n")
	body := url.Values{"message": {strings.Repeat("Something happened at break time. ", 18)}, "danger": {"no"}}.Encode()
	b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, "/en/report", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := env.do(req)
			if rec.Code != http.StatusOK {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}
