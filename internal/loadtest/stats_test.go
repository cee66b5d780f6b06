package loadtest

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestSummarizeKnownData(t *testing.T) {
	d := make([]time.Duration, 100)
	for i := range d {
		d[i] = time.Duration(i+1) * time.Millisecond
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(d), func(i, j int) { d[i], d[j] = d[j], d[i] })
	got := Summarize(d)
	want := Latencies{N: 100, P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if got != want {
		t.Errorf("Summarize(1..100ms) = %+v, want %+v", got, want)
	}
}

func TestPercentileSmall(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	tests := []struct {
		data []time.Duration
		p    float64
		want time.Duration
	}{
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 51, 3 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{ms(1, 2, 3), 0, 1 * time.Millisecond},
		{nil, 99, 0},
	}
	for _, tt := range tests {
		if got := Percentile(tt.data, tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.data, tt.p, got, tt.want)
		}
	}
	if (Summarize(nil) != Latencies{}) {
		t.Error("Summarize(nil) is not zero")
	}
}

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(3, 4)) }
