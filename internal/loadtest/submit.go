package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// requestTimeout bounds one request so a stuck server cannot stall a level.
const requestTimeout = 10 * time.Second

// checkEvery makes one submission in this many go on to check its receipt.
const checkEvery = 10

// Level is how one run of the submit flow went at one concurrency.
type Level struct {
	Concurrency int
	Elapsed     time.Duration
	Submitted   int // submissions attempted
	Accepted    int // submissions answered with a receipt
	Submit      Latencies
	Checked     int // checks attempted
	CheckOK     int
	Check       Latencies
	Errors      map[string]int // by kind: "report status 503", "network timeout", ...

	// Memory says whether the server's memory was measured: VmHWM (its
	// lifetime peak) before and after the level, and the largest VmRSS
	// sampled every 100 ms during it. A rise in VmHWM catches spikes that
	// fall between samples.
	Memory            bool
	HWMBefore, HWMAft int64
	RSSMax            int64
}

// Rate is accepted submissions per second.
func (l *Level) Rate() float64 {
	if l.Elapsed <= 0 {
		return 0
	}
	return float64(l.Accepted) / l.Elapsed.Seconds()
}

// ErrorCount is the number of failed requests of any kind.
func (l *Level) ErrorCount() int {
	n := 0
	for _, c := range l.Errors {
		n += c
	}
	return n
}

// flow is what every worker of a level shares.
type flow struct {
	client    *http.Client
	reportURL string
	checkURL  string
	report    url.Values // defaults of the report form
	check     url.Values // defaults of the check form
	receipt   func(string)
	pace      <-chan time.Time // a tick per submission, when paced
	deadline  time.Time
	budget    atomic.Int64 // requests left
	accepted  atomic.Int64

	mu     sync.Mutex
	errors map[string]int
	subLat []time.Duration
	chkLat []time.Duration
	subN   int
	chkN   int
	chkOK  int
}

// LevelOptions configures one run of the submit flow.
type LevelOptions struct {
	Base        *url.URL
	Lang        string
	Concurrency int
	Duration    time.Duration
	MaxRequests int        // bound on requests of the level, checks included
	ReportForm  url.Values // fields a browser would send with the report form
	CheckForm   url.Values // likewise for the check form
	PID         int        // if non-zero, measure this process's memory
	Seed        uint64
	// Dial, if set, opens every connection (a unix socket, say); the
	// URL's host is then only the Host header.
	Dial Dialer
	// Receipt, if set, is given every receipt the server showed, as it
	// arrives. It may be called from many goroutines at once.
	Receipt func(code string)
	// Rate, if positive, paces the level's submissions to this many a
	// second in all (a flood at a chosen rate); otherwise each worker
	// submits again as soon as it has its answer.
	Rate float64
}

// RunLevel runs the submit flow with o.Concurrency workers until the
// duration or the request budget runs out, whichever comes first.
func RunLevel(ctx context.Context, o LevelOptions) *Level {
	tr := &http.Transport{
		MaxIdleConns:        2 * o.Concurrency,
		MaxIdleConnsPerHost: 2 * o.Concurrency,
		IdleConnTimeout:     30 * time.Second,
	}
	if o.Dial != nil {
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) { return o.Dial(ctx) }
	}
	defer tr.CloseIdleConnections()
	f := &flow{
		client:    &http.Client{Transport: tr, Timeout: requestTimeout},
		reportURL: o.Base.ResolveReference(&url.URL{Path: "/" + o.Lang + "/report"}).String(),
		checkURL:  o.Base.ResolveReference(&url.URL{Path: "/" + o.Lang + "/check"}).String(),
		report:    o.ReportForm,
		check:     o.CheckForm,
		receipt:   o.Receipt,
		errors:    map[string]int{},
	}
	f.budget.Store(int64(o.MaxRequests))

	lvl := &Level{Concurrency: o.Concurrency}
	var sampler *RSSSampler
	if o.PID != 0 {
		if m, err := ReadMemory(o.PID); err == nil {
			lvl.Memory, lvl.HWMBefore = true, m.HWM
			sampler = StartRSSSampler(o.PID, 100*time.Millisecond)
		}
	}

	if o.Rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / o.Rate))
		defer t.Stop()
		f.pace = t.C
	}
	start := time.Now()
	f.deadline = start.Add(o.Duration)
	var wg sync.WaitGroup
	for w := range o.Concurrency {
		wg.Go(func() {
			f.worker(ctx, rand.New(rand.NewPCG(o.Seed, uint64(w))))
		})
	}
	wg.Wait()
	lvl.Elapsed = time.Since(start)

	if sampler != nil {
		lvl.RSSMax = sampler.Stop()
		if m, err := ReadMemory(o.PID); err == nil {
			lvl.HWMAft = m.HWM
		}
	}
	lvl.Submitted, lvl.Accepted = f.subN, int(f.accepted.Load())
	lvl.Checked, lvl.CheckOK = f.chkN, f.chkOK
	lvl.Submit, lvl.Check = Summarize(f.subLat), Summarize(f.chkLat)
	lvl.Errors = f.errors
	return lvl
}

func (f *flow) more(ctx context.Context) bool {
	return ctx.Err() == nil && time.Now().Before(f.deadline) && f.budget.Add(-1) >= 0
}

// paced waits for the next submission's turn when the level is paced.
func (f *flow) paced(ctx context.Context) bool {
	if f.pace == nil {
		return true
	}
	select {
	case <-f.pace:
		return time.Now().Before(f.deadline)
	case <-ctx.Done():
		return false
	}
}

func (f *flow) worker(ctx context.Context, rng *rand.Rand) {
	var subLat, chkLat []time.Duration
	errs := map[string]int{}
	var subN, chkN, chkOK int
	defer func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.subLat = append(f.subLat, subLat...)
		f.chkLat = append(f.chkLat, chkLat...)
		for k, v := range errs {
			f.errors[k] += v
		}
		f.subN += subN
		f.chkN += chkN
		f.chkOK += chkOK
	}()
	for f.paced(ctx) && f.more(ctx) {
		msg := Message(rng)
		// A reporter's words must never be shown back; a slice from the
		// middle of the message tells if they are.
		echo := []byte(msg[len(msg)/2-24 : len(msg)/2+24])
		form := cloneValues(f.report)
		form.Set("message", msg)
		form.Set("danger", "no")
		subN++
		start := time.Now()
		status, body, err := f.post(ctx, f.reportURL, form)
		d := time.Since(start)
		switch {
		case err != nil && ctx.Err() != nil:
			return // interrupted: not the server's failure
		case err != nil:
			errs["network "+errorKind(err)]++
			continue
		case status != http.StatusOK:
			errs[fmt.Sprintf("report status %d", status)]++
			continue
		}
		code, ok := FindReceipt(body)
		if !ok {
			errs["report without receipt"]++
			continue
		}
		if bytes.Contains(body, echo) {
			errs["report echoes message"]++
			continue
		}
		subLat = append(subLat, d)
		if f.receipt != nil {
			f.receipt(code)
		}
		if f.accepted.Add(1)%checkEvery != 0 || !f.more(ctx) {
			continue
		}
		form = cloneValues(f.check)
		form.Set("receipt", code)
		chkN++
		start = time.Now()
		status, body, err = f.post(ctx, f.checkURL, form)
		d = time.Since(start)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			errs["network "+errorKind(err)]++
		case status != http.StatusOK:
			errs[fmt.Sprintf("check status %d", status)]++
		case !ShowsThread(body):
			errs["check without thread"]++
		case bytes.Contains(body, echo):
			errs["check echoes message"]++
		default:
			chkOK++
			chkLat = append(chkLat, d)
		}
	}
}

func (f *flow) post(ctx context.Context, u string, form url.Values) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v)+2)
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// errorKind names a network failure without the URL or addresses that its
// message carries.
func errorKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection-refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection-reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken-pipe"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no-local-port"
	case errors.Is(err, syscall.EMFILE):
		return "too-many-open-files"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	default:
		return "other"
	}
}

var words = strings.Fields(`
	the a my our in at after before during break lunch class teacher coach
	friend group chat phone message photo bus corridor toilets field library
	said sent showed took kept asked told laughed pushed shouted followed waited
	again every day week always sometimes yesterday tuesday friday morning evening
	scared worried upset angry alone quiet tired sad nervous unsure
	older younger boy girl student someone adult person they he she people
	online game video account picture money secret threat rumour name
	please help know happened think maybe really because but and so then when
	café naïve señora zoë façade
`)

// Message returns about 600 bytes of varied, plausible report text. The
// length varies so sealed sizes are not all the same bucket edge.
func Message(rng *rand.Rand) string {
	target := 560 + rng.IntN(81)
	var b strings.Builder
	b.Grow(target + 16)
	sentence := 0
	for b.Len() < target {
		w := words[rng.IntN(len(words))]
		if sentence == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		b.WriteString(w)
		sentence++
		if sentence > 6 && rng.IntN(5) == 0 {
			b.WriteString(". ")
			sentence = 0
		} else {
			b.WriteByte(' ')
		}
	}
	return strings.TrimSpace(b.String()) + "."
}
