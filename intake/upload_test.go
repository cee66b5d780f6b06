package intake

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/hearken-project/hearken/internal/testkit"
)

// stalledUpload opens a connection, declares a large form body, sends
// part of it and then sends drip bytes every interval, returning a channel
// that yields the status the server answers with.
func stalledUpload(t *testing.T, addr string, declared int, drip time.Duration) <-chan int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /en/report HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\nmessage=", addr, declared)
	status := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			status <- 0
			return
		}
		status <- resp.StatusCode
	}()
	if drip > 0 {
		go func() {
			for range time.Tick(drip) {
				if _, err := c.Write([]byte("a")); err != nil {
					return
				}
			}
		}()
	}
	return status
}

func TestUploadThatStallsIsDropped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.srv.uploadIdle = 200 * time.Millisecond
	ts := httptest.NewServer(e.srv)
	t.Cleanup(ts.Close) // after the client connections close
	select {
	case code := <-stalledUpload(t, ts.Listener.Addr().String(), 100000, 0):
		if code != http.StatusRequestTimeout {
			t.Fatalf("stalled upload answered %d, want 408", code)
		}
	case <-time.After(testkit.Patience):
		t.Fatal("a stalled upload was not dropped")
	}
	if n := e.items(t); n != 0 {
		t.Fatalf("%d items stored", n)
	}
}

func TestUploadThatTricklesIsDropped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.srv.uploadIdle = 300 * time.Millisecond
	e.srv.minUploadRate = 10000
	ts := httptest.NewServer(e.srv)
	t.Cleanup(ts.Close) // after the client connections close
	select {
	case code := <-stalledUpload(t, ts.Listener.Addr().String(), 100000, 20*time.Millisecond):
		if code != http.StatusRequestTimeout {
			t.Fatalf("trickling upload answered %d, want 408", code)
		}
	case <-time.After(testkit.Patience):
		t.Fatal("a trickling upload was not dropped")
	}
}

// Memory is reserved for bytes that have arrived, not for the length a
// client declares: uploads that declare a lot and send little cannot lock
// everyone else out.
func TestUploadMemoryFollowsBytes(t *testing.T) {
	e := newEnv(t, "[limits]\nmax_concurrent_submissions = 8\n")
	// Room for four chunks: three stalled uploads hold one each, however
	// much they declared.
	e.srv.mem = newBudget(4 * reserveChunk * memoryPerByte)
	e.srv.queueWait = 200 * time.Millisecond
	e.srv.uploadIdle = 2 * time.Second
	ts := httptest.NewServer(e.srv)
	t.Cleanup(ts.Close) // after the client connections close
	for range 3 {
		stalledUpload(t, ts.Listener.Addr().String(), 50<<20, 0)
	}
	// Wait until all three are in a handler and hold their memory.
	if err := testkit.WaitFor(testkit.Patience, func() bool {
		return e.srv.mem.inUse() >= 3*reserveChunk*memoryPerByte
	}); err != nil {
		t.Fatalf("the stalled uploads did not all start: %v", err)
	}
	resp, err := http.PostForm(ts.URL+"/en/report", url.Values{"message": {"a real report"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a real report got %d while others declared large bodies and sent nothing", resp.StatusCode)
	}
}

// inUse reports how much of b is taken.
func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Uploads that trickle in hold no sealing slot: a slot is taken only once
// a whole body has arrived, so however many slow uploads are in progress,
// more than there are slots, an ordinary report still gets its receipt.
func TestSlowUploadsDoNotBlockReports(t *testing.T) {
	e := newEnv(t, "[limits]\nmax_concurrent_submissions = 2\nsubmissions_per_minute = 100000\n")
	e.srv.queueWait = 200 * time.Millisecond
	ts := httptest.NewServer(e.srv)
	t.Cleanup(ts.Close) // after the client connections close
	const slow = 6
	for range slow {
		stalledUpload(t, ts.Listener.Addr().String(), 1<<20, 50*time.Millisecond)
	}
	// Wait until every slow upload is being read (each holds upload
	// memory), or until they hold every slot, as they once did.
	if err := testkit.WaitFor(testkit.Patience, func() bool {
		return e.srv.mem.inUse() >= slow*reserveChunk*memoryPerByte || e.srv.slots.inUse() == 2
	}); err != nil {
		t.Fatalf("the slow uploads did not all start: %v", err)
	}
	for i := range 3 {
		resp, err := http.PostForm(ts.URL+"/en/report", url.Values{"message": {"a real report"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("report %d got %d while %d slow uploads were in progress", i+1, resp.StatusCode, slow)
		}
	}
	// The reports' handlers give their slots back as they return; the
	// slow uploads, still arriving, hold none.
	if err := testkit.WaitFor(testkit.Patience, func() bool { return e.srv.slots.inUse() == 0 }); err != nil {
		t.Errorf("%d sealing slots held by uploads still arriving", e.srv.slots.inUse())
	}
}

// An upload's time to arrive grows with the size it declares, from a
// minute for a small form to the server's read timeout.
func TestUploadDeadlineGrowsWithSize(t *testing.T) {
	e := newEnv(t, "")
	start := time.Unix(1000, 0)
	small := e.srv.uploadDeadline(start, 2<<10).Sub(start)
	photo := e.srv.uploadDeadline(start, 1<<20).Sub(start)
	unknown := e.srv.uploadDeadline(start, -1).Sub(start)
	if small < uploadIdle || small > uploadIdle+5*time.Second {
		t.Errorf("a 2 KiB form gets %v", small)
	}
	if photo <= small || photo >= readTimeout {
		t.Errorf("a 1 MiB photo gets %v (a 2 KiB form %v)", photo, small)
	}
	if unknown != readTimeout {
		t.Errorf("a body of unknown length gets %v, want the read timeout", unknown)
	}
}
