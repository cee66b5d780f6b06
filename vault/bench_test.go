package vault

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"filippo.io/age"
	bolt "go.etcd.io/bbolt"
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

// BenchmarkOpenReportHinted opens as member 3 of 3 with a HintedIdentity:
// one decapsulation, as for member 1.
func BenchmarkOpenReportHinted(b *testing.B) {
	ms, team := testTeam(b, 3)
	sealed, _ := Seal(&Envelope{Kind: KindReport, Day: "2026-11-27", Fields: []Field{{"message", report2KiB}}}, team.Recipients()...)
	id := NewHintedIdentity(ms[2].Identity())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(sealed, id); err != nil {
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

// BenchmarkCreateThreadFloor32 measures the least a durable thread creation
// can cost, beside BenchmarkCreateThreadDurable32: a fresh hybrid reply
// key, 4 KiB sealed with age to the team, and one bbolt Batch put of the
// result, from 32 concurrent writers, and nothing else. CreateThread's
// rate over this one's is what its bookkeeping costs.
func BenchmarkCreateThreadFloor32(b *testing.B) {
	payload := bytes.Repeat([]byte("x"), 4<<10)
	bucket := []byte("floor")
	for _, members := range []int{3, 1} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			_, team := testTeam(b, members)
			s, _ := openTest(b, nil)
			if err := s.db.Update(func(tx *bolt.Tx) error {
				_, err := tx.CreateBucket(bucket)
				return err
			}); err != nil {
				b.Fatal(err)
			}
			rcpts := team.Recipients()
			b.SetParallelism((32 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := age.GenerateHybridIdentity(); err != nil {
						b.Error(err)
						return
					}
					var sealed bytes.Buffer
					w, err := age.Encrypt(&sealed, rcpts...)
					if err != nil {
						b.Error(err)
						return
					}
					w.Write(payload)
					if err := w.Close(); err != nil {
						b.Error(err)
						return
					}
					key := make([]byte, 16)
					rand.Read(key)
					if err := s.db.Batch(func(tx *bolt.Tx) error {
						return tx.Bucket(bucket).Put(key, sealed.Bytes())
					}); err != nil {
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
