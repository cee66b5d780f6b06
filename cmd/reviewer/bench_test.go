package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// BenchmarkSyncDecryptList10k syncs 10,000 reports from the real staff
// handler over loopback into a fresh local store (each report is opened
// once, to check it and to summarize its case), then lists them.
// "reports" syncs the reports alone; "events" syncs them with 2,000 team
// events besides (a colleague's signed triage on one case in five), each
// opened, verified and merged. Goal: at most 1 s per operation on 2 idle
// cores, events adding at most 20%. Besides the time, each reports the
// CPU time of the whole process (the server's handler included), which a
// busy machine inflates far less than the time.
//
// "floor" first opens the same 10,000 reports on every core with nothing
// else to do: the cost of the cryptography alone, which no sync can go
// under, on this machine as it is at the time. The others report their
// time as a multiple of it, a figure that a machine's speed and load move
// far less than the seconds.
//
// The server serves each member only what that member has not yet
// acknowledged, so each sub-benchmark syncs as another member of the team,
// once:
//
//	go test ./cmd/reviewer -run '^$' -bench SyncDecryptList10k -benchtime 1x
func BenchmarkSyncDecryptList10k(b *testing.B) {
	tuneGC() // as the command runs
	const n, nEvents = 10000, 2000
	var members []*vault.Member
	for _, name := range []string{"Dana Lead", "Sam Deputy", "Eve Officer"} {
		m, err := vault.GenerateMember(name)
		if err != nil {
			b.Fatal(err)
		}
		members = append(members, m)
	}
	srv := newStaffServer(b, b.TempDir(), map[string]*vault.Team{"students": parseTeam(b, members...)})
	start := time.Now()
	threads := make([]string, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				e := &vault.Envelope{Fields: []vault.Field{
					{Name: "message", Value: fmt.Sprintf("report %d: someone at school is being hurt and needs help", i)},
					{Name: "danger", Value: "no"},
				}}
				r, err := srv.store.CreateThread("students", e, srv.teams["students"].Recipients())
				if err != nil {
					b.Error(err)
					continue
				}
				ti, err := srv.store.Thread(r)
				if err != nil {
					b.Error(err)
					continue
				}
				threads[i] = ti.ID
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	b.Logf("setup: sealed and stored %d reports in %v", n, time.Since(start).Round(time.Millisecond))

	var floor time.Duration // set by "floor", which runs first
	syncAs := func(b *testing.B, m *vault.Member, events int) {
		iter := 0
		var syncTime, listTime, cpu time.Duration
		for b.Loop() {
			if iter++; iter > 1 {
				b.Fatal("each member syncs once: use -benchtime 1x")
			}
			dir, err := os.MkdirTemp(b.TempDir(), "store")
			if err != nil {
				b.Fatal(err)
			}
			// The route's team file, as reviewer init --team installs it:
			// colleagues' events are checked against it.
			teamPath := filepath.Join(b.TempDir(), "team.txt")
			if err := os.WriteFile(teamPath, []byte(teamLines(members...)), 0o600); err != nil {
				b.Fatal(err)
			}
			if _, _, err := cases.InstallTeam(dir, teamPath, "students"); err != nil {
				b.Fatal(err)
			}
			c0 := cpuTime()
			t0 := time.Now()
			st, err := cases.Open(dir, m, true)
			if err != nil {
				b.Fatal(err)
			}
			c, err := cases.NewClient(srv.srv.URL, "", m)
			if err != nil {
				b.Fatal(err)
			}
			res, err := cases.Sync(context.Background(), st, c)
			if err != nil {
				b.Fatal(err)
			}
			if res.Received != n+events || len(res.SetAside) != 0 || res.Acked != n+events || res.Updates != events {
				b.Fatalf("sync: received %d, set aside %d, acked %d, updates %d", res.Received, len(res.SetAside), res.Acked, res.Updates)
			}
			t1 := time.Now()
			all, err := st.List()
			if err != nil {
				b.Fatal(err)
			}
			if len(all) != n || all[0].Preview == "" {
				b.Fatalf("listed %d cases", len(all))
			}
			if events > 0 && all[0].Urgency != "high" {
				b.Fatalf("the most pressing case: %+v", all[0])
			}
			t2 := time.Now()
			cpu = cpuTime() - c0
			b.Logf("sync %v (pull, verify, store, ack) + list %v = %v for %d reports and %d events; CPU %v",
				t1.Sub(t0).Round(time.Millisecond), t2.Sub(t1).Round(time.Millisecond), t2.Sub(t0).Round(time.Millisecond), n, events, cpu.Round(time.Millisecond))
			syncTime, listTime = t1.Sub(t0), t2.Sub(t1)
			c.Close()
			st.Close()
		}
		b.ReportMetric(syncTime.Seconds(), "sync-s/op")
		b.ReportMetric(listTime.Seconds(), "list-s/op")
		b.ReportMetric(cpu.Seconds(), "cpu-s/op")
		if floor > 0 {
			b.ReportMetric(float64(syncTime+listTime)/float64(floor), "x-floor")
		}
	}
	b.Run("floor", func(b *testing.B) { floor = openFloor(b, srv, members[2], n) })
	b.Run("reports", func(b *testing.B) { syncAs(b, members[0], 0) })
	// Eve triages one case in five; Sam syncs the reports and her events.
	start = time.Now()
	for i := 0; i < nEvents; i++ {
		if err := postTriage(srv, members, threads[i*(n/nEvents)]); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("setup: signed, sealed and stored %d events in %v", nEvents, time.Since(start).Round(time.Millisecond))
	b.Run("events", func(b *testing.B) { syncAs(b, members[1], nEvents) })
}

// openFloor measures what no sync can avoid: opening each report once,
// on every core, with nothing else to do (no network, no store, no server).
// The sealed reports are read from the server's store first, unmeasured.
// A sync's time over this floor is what the rest of it costs.
func openFloor(b *testing.B, srv *staffServer, m *vault.Member, n int) time.Duration {
	var sealed [][]byte
	for cursor := ""; ; {
		items, next, err := srv.store.Pending(cursor, staff.MaxItems, []string{"students"}, vault.FormatSigningKey(m.SigningPublic()))
		if err != nil {
			b.Fatal(err)
		}
		if len(items) == 0 {
			break
		}
		for _, it := range items {
			sealed = append(sealed, it.Sealed)
		}
		cursor = next
	}
	if len(sealed) != n {
		b.Fatalf("read %d reports", len(sealed))
	}
	var took, cpu time.Duration
	for b.Loop() {
		id := vault.NewHintedIdentity(m.Identity())
		c0, t0 := cpuTime(), time.Now()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < int64(len(sealed)); i = next.Add(1) - 1 {
					if _, err := vault.Open(sealed[i], id); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		took, cpu = time.Since(t0), cpuTime()-c0
	}
	b.Logf("floor: opened %d reports on %d cores in %v; CPU %v", n, runtime.GOMAXPROCS(0), took.Round(time.Millisecond), cpu.Round(time.Millisecond))
	b.ReportMetric(took.Seconds(), "open-s/op")
	b.ReportMetric(cpu.Seconds(), "cpu-s/op")
	return took
}

// postTriage stores on the server a triage of thread by the last of
// members, as that member's reviewer writes, signs and seals it.
func postTriage(srv *staffServer, members []*vault.Member, thread string) error {
	id := uuid.NewString()
	data, _ := json.Marshal(map[string]any{"type": "triage", "set": map[string]string{"status": "triaged", "urgency": "high"}})
	by := members[len(members)-1]
	e, err := vault.SignItem(by, &vault.Signed{Thread: thread, ID: id, Kind: vault.KindEvent, Lamport: 1,
		Day: time.Now().UTC().Format("2006-01-02"), Route: "students", Data: data})
	if err != nil {
		return err
	}
	standIn, err := age.GenerateHybridIdentity()
	if err != nil {
		return err
	}
	recipients := []age.Recipient{standIn.Recipient()}
	for _, m := range members {
		recipients = append(recipients, m.Recipient())
	}
	sealed, err := vault.Seal(e, recipients...)
	if err != nil {
		return err
	}
	_, err = srv.store.AddReply(thread, id, sealed)
	return err
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
