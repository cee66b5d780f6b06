package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

// BenchmarkSyncDecryptList10k syncs 10,000 reports from the real staff
// handler over loopback into a fresh local store (each report is opened
// once, to check it and to summarize its case), then lists them. The server
// serves each member only what that member has not acknowledged, so each
// iteration syncs as the next member of a two-member team: at most two
// iterations. Goal: at most 5 s per operation on 2 cores.
//
//	go test ./cmd/reviewer -run '^$' -bench SyncDecryptList10k -benchtime 2x
func BenchmarkSyncDecryptList10k(b *testing.B) {
	const n = 10000
	dana, err := vault.GenerateMember("Dana Lead")
	if err != nil {
		b.Fatal(err)
	}
	sam, err := vault.GenerateMember("Sam Deputy")
	if err != nil {
		b.Fatal(err)
	}
	srv := newStaffServer(b, b.TempDir(), map[string]*vault.Team{"students": parseTeam(b, dana, sam)})
	start := time.Now()
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
				if _, err := srv.store.CreateThread("students", e, srv.teams["students"].Recipients()); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	b.Logf("setup: sealed and stored %d reports in %v", n, time.Since(start).Round(time.Millisecond))

	ctx := context.Background()
	var syncTime, listTime time.Duration
	members := []*vault.Member{dana, sam}
	iter := 0
	for b.Loop() {
		if iter == len(members) {
			b.Fatalf("at most %d iterations (one a member): use -benchtime %dx", len(members), len(members))
		}
		m := members[iter]
		iter++
		dir, err := os.MkdirTemp(b.TempDir(), "store")
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		st, err := cases.Open(dir, m, true)
		if err != nil {
			b.Fatal(err)
		}
		c, err := cases.NewClient(srv.srv.URL, "", m)
		if err != nil {
			b.Fatal(err)
		}
		res, err := cases.Sync(ctx, st, c)
		if err != nil {
			b.Fatal(err)
		}
		if res.Received != n || len(res.SetAside) != 0 || res.Acked != n {
			b.Fatalf("sync: received %d, set aside %d, acked %d", res.Received, len(res.SetAside), res.Acked)
		}
		t1 := time.Now()
		all, err := st.List()
		if err != nil {
			b.Fatal(err)
		}
		if len(all) != n || all[0].Preview == "" {
			b.Fatalf("listed %d cases", len(all))
		}
		t2 := time.Now()
		b.Logf("sync %v (pull, verify, store, ack) + list %v = %v for %d reports",
			t1.Sub(t0).Round(time.Millisecond), t2.Sub(t1).Round(time.Millisecond), t2.Sub(t0).Round(time.Millisecond), n)
		syncTime += t1.Sub(t0)
		listTime += t2.Sub(t1)
		c.Close()
		st.Close()
	}
	b.ReportMetric(syncTime.Seconds()/float64(b.N), "sync-s/op")
	b.ReportMetric(listTime.Seconds()/float64(b.N), "list-s/op")
}
