package main

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)

	t.Setenv("GOGC", "")
	tuneGC()
	if got := debug.SetGCPercent(100); got != 200 {
		t.Errorf("without GOGC, the GC percent is %d, want 200", got)
	}
	// The runtime read GOGC at start; tuneGC leaves whatever it chose.
	t.Setenv("GOGC", "50")
	tuneGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, tuneGC changed the GC percent to %d", got)
	}
}
