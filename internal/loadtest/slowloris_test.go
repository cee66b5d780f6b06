package loadtest

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearken-project/hearken/internal/testkit"
)

// A slowloris attack holds its connections open, sends requests that never
// finish, and opens a new connection for each one the server ends.
func TestSlowlorisHoldsAndReopens(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	var conns []net.Conn
	firstLines := map[string]int{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			line, _ := bufio.NewReader(c).ReadString('\n')
			mu.Lock()
			conns = append(conns, c)
			firstLines[strings.TrimSpace(line)]++
			mu.Unlock()
		}
	}()
	accepted := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	}

	const n = 20
	s := StartSlowloris(context.Background(), SlowlorisOptions{Dial: TCPDialer(ln.Addr().String()), Conns: n, Every: 50 * time.Millisecond})
	if err := testkit.WaitFor(testkit.Patience, func() bool { return accepted() == n }); err != nil {
		t.Fatalf("%d of %d connections reached the server: %v", accepted(), n, err)
	}
	mu.Lock()
	if firstLines["POST /en/report HTTP/1.1"] != n {
		t.Errorf("first lines: %v", firstLines)
	}
	// The server ends every connection: each is opened again.
	for _, c := range conns {
		c.Close()
	}
	mu.Unlock()
	if err := testkit.WaitFor(testkit.Patience, func() bool { return accepted() >= 2*n && s.Open() == n }); err != nil {
		t.Fatalf("after the server closed them: %d accepted, %d open: %v", accepted(), s.Open(), err)
	}
	st := s.Stop()
	if st.Conns != n || st.Peak != n || st.Opened < 2*n || st.Dropped < n || st.DialFails != 0 {
		t.Errorf("stats: %+v", st)
	}
	if s.Open() != 0 {
		t.Errorf("%d connections still open after Stop", s.Open())
	}
}
