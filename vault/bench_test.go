package vault

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

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

// BenchmarkSealBuckets seals envelopes that fill the 4 KiB, 16 KiB and
// 1 MiB buckets (a report with its reply key is 16 KiB) to a team of three,
// and reports the bytes allocated and how much room the sealed output was
// given beyond its length (slack-B).
func BenchmarkSealBuckets(b *testing.B) {
	_, team := testTeam(b, 3)
	for _, c := range []struct {
		name string
		text int
	}{{"4KiB", 2 << 10}, {"16KiB", 6 << 10}, {"1MiB", 600 << 10}} {
		b.Run(c.name, func(b *testing.B) {
			e := &Envelope{Kind: KindReport, Day: "2026-11-27", Fields: []Field{{"message", strings.Repeat("a", c.text)}}}
			var slack int
			b.ReportAllocs()
			for b.Loop() {
				sealed, err := Seal(e, team.Recipients()...)
				if err != nil {
					b.Fatal(err)
				}
				slack = cap(sealed) - len(sealed)
			}
			b.ReportMetric(float64(slack), "slack-B")
		})
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

// typicalReport is a text report of 1.5 KiB. With the thread's reply
// recipient (about 2 KB of text) its envelope fills the 4 KiB padding
// bucket, the size the floor seals; a 2 KiB report would spill into the
// 16 KiB bucket and make CreateThread seal four times what the floor does.
var typicalReport = strings.Repeat("A report of a typical length, ", 52)[:1536]

// writers is how many goroutines the creation benchmarks run at once: the
// intake's reporters, each waiting for their commit.
const writers = 32

// icount runs one side of BenchmarkCreateThreadDurable32, for counting its
// instructions with valgrind, which a busy machine does not disturb (see
// README's Performance section). Commits then gather exactly 32 writers
// each, whatever the timing, so the count is the same from run to run.
var icount = flag.String("icount", "", "run only the `side` (create or floor) of BenchmarkCreateThreadDurable32, in commits of exactly 32")

// BenchmarkCreateThreadDurable32 measures whole thread creations (receipt,
// reply key, sealing to the team, fsynced commit) from 32 concurrent
// writers, for a team of three and a team of one, beside their raw floor
// (BenchmarkCreateThreadFloor32's work). The two take turns, in blocks, on
// stores of their own, so a machine whose load changes under the benchmark
// weighs on both alike; ns/op and allocs/op are CreateThread's alone.
//
// It reports each one's rate (threads/s, floor/s) and the CPU time the
// whole process spent per creation (cpu-ms/op, floor-cpu-ms/op), and their
// ratios: ratio is CreateThread's rate over the floor's, cpu-ratio the
// floor's CPU time over CreateThread's. On a busy machine the CPU time is
// the steadier figure. It counts everything the process did meanwhile:
// the background reply-key maker (which works only during CreateThread's
// blocks), and the garbage collector (each block ends with a collection of
// what it left).
func BenchmarkCreateThreadDurable32(b *testing.B) {
	for _, members := range []int{3, 1} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			_, team := testTeam(b, members)
			rcpts := team.Recipients()
			s, _ := openTest(b, nil)
			checkTypical(b, s, rcpts)
			floor := newFloor(b, rcpts)
			fixBatch(s.db)
			create := func() error {
				_, err := s.CreateThread("safeguarding", &Envelope{Fields: []Field{{"message", typicalReport}}}, rcpts)
				return err
			}
			var c, f phase
			b.ReportAllocs()
			b.ResetTimer()
			for left := b.N; left > 0; {
				n := min(left, 256)
				if *icount != "create" {
					b.StopTimer()
					if err := f.run(n, floor.create); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				if *icount != "floor" {
					if err := c.run(n, create); err != nil {
						b.Fatal(err)
					}
				}
				// Keys made ahead stay for the next block; none are made
				// during the floor's.
				pauseReplies(s)
				left -= n
			}
			b.StopTimer()
			if *icount != "" {
				return
			}
			b.ReportMetric(c.rate(), "threads/s")
			b.ReportMetric(f.rate(), "floor/s")
			b.ReportMetric(c.rate()/f.rate(), "ratio")
			b.ReportMetric(c.cpuPerOp(), "cpu-ms/op")
			b.ReportMetric(f.cpuPerOp(), "floor-cpu-ms/op")
			b.ReportMetric(f.cpuPerOp()/c.cpuPerOp(), "cpu-ratio")
		})
	}
}

// BenchmarkCreateThreadFloor32 measures the least a durable thread creation
// can cost, on its own: a fresh hybrid reply key, 4 KiB sealed with age to
// the team, and one bbolt Batch put of the result (fsynced, shared with the
// other writers as CreateThread's commits are), from 32 concurrent
// writers, and nothing else.
func BenchmarkCreateThreadFloor32(b *testing.B) {
	for _, members := range []int{3, 1} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			_, team := testTeam(b, members)
			floor := newFloor(b, team.Recipients())
			var f phase
			b.ReportAllocs()
			b.ResetTimer()
			if err := f.run(b.N, floor.create); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(f.rate(), "threads/s")
			b.ReportMetric(f.cpuPerOp(), "cpu-ms/op")
		})
	}
}

// floor is the raw floor's work and its own store.
type floor struct {
	db      *bolt.DB
	rcpts   []age.Recipient
	payload []byte
}

var floorBucket = []byte("floor")

func newFloor(b *testing.B, rcpts []age.Recipient) *floor {
	s, _ := openTest(b, nil)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket(floorBucket)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	fixBatch(s.db)
	return &floor{db: s.db, rcpts: rcpts, payload: bytes.Repeat([]byte("x"), 4<<10)}
}

// fixBatch makes db's commits gather exactly writers writers each when
// -icount is given.
func fixBatch(db *bolt.DB) {
	if *icount != "" {
		db.MaxBatchSize, db.MaxBatchDelay = writers, time.Hour
	}
}

func (f *floor) create() error {
	if _, err := age.GenerateHybridIdentity(); err != nil {
		return err
	}
	var sealed bytes.Buffer
	w, err := age.Encrypt(&sealed, f.rcpts...)
	if err != nil {
		return err
	}
	w.Write(f.payload)
	if err := w.Close(); err != nil {
		return err
	}
	key := make([]byte, 16)
	rand.Read(key)
	return f.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket(floorBucket).Put(key, sealed.Bytes())
	})
}

// checkTypical fails the benchmark unless typicalReport's envelope is
// padded to the floor's 4 KiB.
func checkTypical(b *testing.B, s *Store, rcpts []age.Recipient) {
	k, err := newReplyKey()
	if err != nil {
		b.Fatal(err)
	}
	e := &Envelope{Kind: KindReport, Day: s.today(), Route: "safeguarding", Fields: []Field{{"message", typicalReport}}, ReplyTo: k.recipient}
	plain, err := json.Marshal(e)
	if err != nil {
		b.Fatal(err)
	}
	if n := paddedSize(len(plain)); n != 4<<10 {
		b.Fatalf("the benchmark's report is padded to %d bytes, the floor seals 4 KiB", n)
	}
}

// phase adds up the wall and CPU time of one kind of work.
type phase struct {
	n         int
	wall, cpu time.Duration
}

// run does op n times from writers goroutines at once, then collects the
// garbage they left, and adds what that took. With -icount, n is rounded
// up to whole commits.
func (p *phase) run(n int, op func() error) error {
	if *icount != "" {
		n = (n + writers - 1) / writers * writers
	}
	var left atomic.Int64
	left.Store(int64(n))
	errs := make(chan error, writers)
	start, cpu0 := time.Now(), cpuTime()
	for range writers {
		go func() {
			for left.Add(-1) >= 0 {
				if err := op(); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var err error
	for range writers {
		err = cmp.Or(err, <-errs)
	}
	runtime.GC()
	p.n += n
	p.wall += time.Since(start)
	p.cpu += cpuTime() - cpu0
	return err
}

func (p *phase) rate() float64 { return float64(p.n) / p.wall.Seconds() }

func (p *phase) cpuPerOp() float64 { return p.cpu.Seconds() * 1000 / float64(p.n) }

// cpuTime is the CPU time the process has used, on every thread.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pauseReplies stops the store's background reply-key maker, keeping the
// keys it made for the next creations; the next creation starts it again.
// With -icount it first lets the maker fill the pool, so that a run makes
// the same number of keys whatever the timing.
func pauseReplies(s *Store) {
	old := s.replies
	for *icount == "create" && len(old.ready) < cap(old.ready) {
		time.Sleep(time.Millisecond)
	}
	old.end.Do(func() { close(old.stop) })
	old.start.Do(func() { close(old.done) })
	<-old.done
	p := newReplyPool()
	for len(old.ready) > 0 {
		p.ready <- <-old.ready
	}
	s.replies = p
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
