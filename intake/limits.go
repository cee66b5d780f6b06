package intake

import (
	"context"
	"sync"
	"time"
)

// budget bounds a shared resource (bytes of upload memory, or submission
// slots) across all requests. A request that cannot get its share waits a
// little and then gives up, so a burst is queued briefly and then refused
// rather than exhausting the machine.
type budget struct {
	mu    sync.Mutex
	total int64
	used  int64
	// changed is closed and replaced whenever capacity is released.
	changed chan struct{}
}

func newBudget(total int64) *budget {
	return &budget{total: total, changed: make(chan struct{})}
}

// acquire takes n units, waiting until ctx is done. A request for more than
// the whole budget is clamped to the whole budget so it can still run alone.
func (b *budget) acquire(ctx context.Context, n int64) (release func(), ok bool) {
	if n > b.total {
		n = b.total
	}
	for {
		b.mu.Lock()
		if b.used+n <= b.total {
			b.used += n
			b.mu.Unlock()
			var once sync.Once
			return func() { once.Do(func() { b.release(n) }) }, true
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, false
		}
	}
}

func (b *budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

// rateLimiter is a token bucket: perMinute tokens a minute, holding at most
// perMinute, shared by every client (the server knows nothing that could tell
// clients apart, by design).
type rateLimiter struct {
	mu     sync.Mutex
	tokens float64
	max    float64
	rate   float64 // tokens per second
	last   time.Time
	now    func() time.Time
}

func newRateLimiter(perMinute int, now func() time.Time) *rateLimiter {
	if now == nil {
		now = time.Now
	}
	return &rateLimiter{
		tokens: float64(perMinute),
		max:    float64(perMinute),
		rate:   float64(perMinute) / 60,
		last:   now(),
		now:    now,
	}
}

// allow takes a token if one is available. Otherwise it reports how long
// until the next one.
func (l *rateLimiter) allow() (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if el := now.Sub(l.last).Seconds(); el > 0 {
		l.tokens = min(l.max, l.tokens+el*l.rate)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return true, 0
	}
	wait := time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
	return false, wait
}
