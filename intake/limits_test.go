package intake

import (
	"context"
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	b := newBudget(10)
	ctx := context.Background()
	r1, ok := b.acquire(ctx, 6)
	if !ok {
		t.Fatal("first acquire failed")
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, ok := b.acquire(short, 6); ok {
		t.Fatal("acquire over budget succeeded")
	}
	got := make(chan bool)
	go func() {
		_, ok := b.acquire(ctx, 6)
		got <- ok
	}()
	r1()
	r1() // releasing twice must not free twice
	if !<-got {
		t.Fatal("waiting acquire did not get the released budget")
	}
	if b.used != 6 {
		t.Fatalf("used = %d, want 6", b.used)
	}
	// More than the whole budget is clamped, so it can still run alone.
	b2 := newBudget(10)
	if _, ok := b2.acquire(ctx, 100); !ok {
		t.Fatal("oversized acquire on an empty budget failed")
	}
}

func TestRateLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newRateLimiter(2, func() time.Time { return now })
	for i := 0; i < 2; i++ {
		if ok, _ := l.allow(); !ok {
			t.Fatalf("token %d refused", i)
		}
	}
	ok, wait := l.allow()
	if ok || wait <= 0 || wait > 30*time.Second {
		t.Fatalf("third = %v, wait %v", ok, wait)
	}
	now = now.Add(30 * time.Second)
	if ok, _ := l.allow(); !ok {
		t.Fatal("no token after 30s at 2/min")
	}
}
