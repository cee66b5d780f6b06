package loadtest

import (
	"math"
	"slices"
	"time"
)

// Latencies summarises a set of request durations.
type Latencies struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

// Summarize sorts d in place and returns its nearest-rank percentiles.
func Summarize(d []time.Duration) Latencies {
	if len(d) == 0 {
		return Latencies{}
	}
	slices.Sort(d)
	return Latencies{
		N:   len(d),
		P50: Percentile(d, 50),
		P90: Percentile(d, 90),
		P99: Percentile(d, 99),
		Max: d[len(d)-1],
	}
}

// Percentile returns the nearest-rank p-th percentile of sorted: the smallest
// value with at least p% of the samples at or below it. Nearest rank never
// invents a value that was not measured.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}
