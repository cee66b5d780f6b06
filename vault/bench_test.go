package vault

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

var report2KiB = strings.Repeat("A report of about two kibibytes. ", 64)[:2048]

func BenchmarkSeal2KiB3Recipients(b *testing.B) {
	_, team := testTeam(b, 3)
	e := &Envelope{Kind: KindReport, Day: "2026-11-27", Fields: []Field{{"message", report2KiB}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Seal(e, team.Recipients()...); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenReport(b *testing.B) {
	ms, team := testTeam(b, 3)
	sealed, _ := Seal(&Envelope{Kind: KindReport, Day: "2026-11-27", Fields: []Field{{"message", report2KiB}}}, team.Recipients()...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(sealed, ms[2].Identity()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateThreadDurable32 measures whole thread creations (receipt,
// reply key, sealing to the team, fsynced commit) from 32 concurrent
// writers, for a team of three and a team of one.
func BenchmarkCreateThreadDurable32(b *testing.B) {
	for _, members := range []int{3, 1} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			_, team := testTeam(b, members)
			s, _ := openTest(b, nil)
			rcpts := team.Recipients()
			b.SetParallelism((32 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.CreateThread("safeguarding", &Envelope{Fields: []Field{{"message", report2KiB}}}, rcpts); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "threads/s")
		})
	}
}

// BenchmarkLookupUnwrap measures what a reporter's check costs before any
// reply is opened: the receipt's HMAC lookup and the reply key unwrap.
func BenchmarkLookupUnwrap(b *testing.B) {
	_, team := testTeam(b, 3)
	s, _ := openTest(b, nil)
	r, err := s.CreateThread("safeguarding", report("x"), team.Recipients())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Replies(r); err != nil {
			b.Fatal(err)
		}
	}
}
