package intake

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
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

var (
	errUploadBusy = errors.New("upload memory is all in use")
	errUploadSlow = errors.New("upload too slow")
)

// reserveChunk is how much body a submission reserves memory for at a
// time. It is small so that many slow uploads in progress hold little of
// the budget each: every upload being read holds at least one chunk, so
// the budget also bounds how many are read at once (uploadMemory /
// (reserveChunk * memoryPerByte), over a thousand).
const reserveChunk = 64 << 10

// meteredBody reads a submission's body, reserving upload memory as the
// bytes arrive rather than for the length a client declares, so a client
// that sends slowly, or not at all, holds no more than it has sent. It also
// drops an upload that goes quiet for idle, or that after its first idle
// period averages less than minRate: a handful of such connections could
// otherwise hold every submission slot for the whole read timeout.
type meteredBody struct {
	io.ReadCloser
	ctx      context.Context
	rc       *http.ResponseController
	mem      *budget
	wait     time.Duration
	idle     time.Duration
	minRate  float64 // bytes per second
	deadline time.Time
	start    time.Time

	read, reserved int64
	releases       []func()
	// discarding is set while the form's reader throws bytes away (what is
	// left of a refused file): they are never held, so they reserve no
	// memory. kept counts the bytes read otherwise.
	discarding bool
	kept       int64
}

func (b *meteredBody) Read(p []byte) (int, error) {
	now := time.Now()
	el := now.Sub(b.start)
	if now.After(b.deadline) || el > b.idle && float64(b.read)/el.Seconds() < b.minRate {
		return 0, errUploadSlow
	}
	p = p[:min(len(p), reserveChunk)]
	for need := (b.kept + int64(len(p))) * memoryPerByte; !b.discarding && b.reserved < need; {
		ctx, cancel := context.WithTimeout(b.ctx, b.wait)
		release, ok := b.mem.acquire(ctx, reserveChunk*memoryPerByte)
		cancel()
		if !ok {
			return 0, errUploadBusy
		}
		b.releases = append(b.releases, release)
		b.reserved += reserveChunk * memoryPerByte
	}
	// The connection's deadline moves on only while data flows, and never
	// past the request's overall limit.
	_ = b.rc.SetReadDeadline(minTime(now.Add(b.idle), b.deadline))
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	if !b.discarding {
		b.kept += int64(n)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return n, errUploadSlow
	}
	return n, err
}

// release gives back the memory the body reserved. It also ends reading
// from the connection: after a refused upload, net/http would otherwise go
// on reading what is left of the body, for as long as the client keeps the
// connection open. (A complete body has nothing left to read, and the next
// request on the connection sets its own deadline.)
func (b *meteredBody) release() {
	_ = b.rc.SetReadDeadline(time.Now())
	for _, r := range b.releases {
		r()
	}
	b.releases = nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
