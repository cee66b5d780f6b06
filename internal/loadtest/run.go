package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrAllFailed means not one submission succeeded at any level.
var ErrAllFailed = errors.New("every submission failed")

// Config is the whole benchmark's configuration.
type Config struct {
	URL         string
	PID         int
	Duration    time.Duration
	MaxRequests int
	Concurrency []int
	Lang        string
	// AllowRemote permits a target that is not a loopback address. A load
	// test pointed at a live school's server by mistake would flood it.
	AllowRemote bool
	// Slowloris, if positive, holds this many slowloris connections open
	// to the server while the levels run (see StartSlowloris): the
	// ordinary reporters' figures are then those under attack.
	Slowloris int
	Out       io.Writer
}

// Result is everything measured.
type Result struct {
	Pages   []PageWeight
	Levels  []*Level
	Verdict Verdict
	Siege   *SlowlorisStats // when Config.Slowloris was set
}

// ParseConcurrency parses a list such as "1,8,64".
func ParseConcurrency(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(f), "%d", &n); err != nil || n < 1 || n > 4096 {
			return nil, fmt.Errorf("invalid concurrency %q: want positive integers such as 1,8,64", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func (c *Config) validate() (*url.URL, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("invalid --url: want http://host:port")
	}
	if !c.AllowRemote && !isLoopback(u.Hostname()) {
		return nil, errors.New("refusing a target that is not a loopback address (use --allow-remote for a server you run)")
	}
	if c.Duration <= 0 || c.MaxRequests < 1 || len(c.Concurrency) == 0 {
		return nil, errors.New("duration, max requests and concurrency must be positive")
	}
	if c.Lang == "" || strings.ContainsAny(c.Lang, "/?#") {
		return nil, errors.New("invalid --lang")
	}
	if c.PID != 0 {
		if _, err := ReadMemory(c.PID); err != nil {
			return nil, fmt.Errorf("invalid --pid: %w", err)
		}
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Run measures the public pages, then runs the submit flow at each
// concurrency, printing as it goes. It returns ErrUnreachable or
// ErrAllFailed when there was nothing to measure; a missed goal is a
// measurement, not an error.
func Run(ctx context.Context, c Config) (*Result, error) {
	base, err := c.validate()
	if err != nil {
		return nil, err
	}
	out := c.Out
	if out == nil {
		out = io.Discard
	}
	res := &Result{}

	pc := newPageClient()
	defer pc.Transport.(*http.Transport).CloseIdleConnections()
	res.Pages, err = MeasurePages(ctx, pc, base, c.Lang)
	if err != nil {
		return nil, err
	}
	PrintPages(out, res.Pages)

	reportForm := formDefaultsAt(ctx, pc, base, "/"+c.Lang+"/report")
	checkForm := formDefaultsAt(ctx, pc, base, "/"+c.Lang+"/check")
	fmt.Fprintf(out, "\nsubmit flow: POST /%s/report (fields: %s), 1 in %d checked at /%s/check; %s or %d requests per level\n",
		c.Lang, fieldNames(reportForm, "message", "danger"), checkEvery, c.Lang, c.Duration, c.MaxRequests)
	var siege *Slowloris
	if c.Slowloris > 0 {
		fmt.Fprintf(out, "slowloris: opening %d connections that each send a byte every 2 s", c.Slowloris)
		siege = StartSlowloris(ctx, SlowlorisOptions{Dial: TCPDialer(base.Host), Conns: c.Slowloris, Lang: c.Lang})
		fmt.Fprintf(out, "; %d open\n", siege.Open())
	}
	PrintLevelHeader(out, c.PID != 0)
	accepted := 0
	for i, n := range c.Concurrency {
		if ctx.Err() != nil {
			break
		}
		lvl := RunLevel(ctx, LevelOptions{
			Base: base, Lang: c.Lang, Concurrency: n, Duration: c.Duration,
			MaxRequests: c.MaxRequests, ReportForm: reportForm, CheckForm: checkForm,
			PID: c.PID, Seed: uint64(i + 1),
		})
		res.Levels = append(res.Levels, lvl)
		accepted += lvl.Accepted
		PrintLevel(out, lvl)
	}
	if siege != nil {
		st := siege.Stop()
		res.Siege = &st
		fmt.Fprintf(out, "slowloris: %s\n", st)
		res.Verdict = JudgeSiege(res.Levels, st)
	} else {
		res.Verdict = Judge(res.Pages, res.Levels, c.Lang)
	}
	PrintVerdict(out, res.Verdict)
	if accepted == 0 {
		return res, ErrAllFailed
	}
	return res, nil
}

func formDefaultsAt(ctx context.Context, c *http.Client, base *url.URL, path string) url.Values {
	f, err := fetch(ctx, c, base.ResolveReference(&url.URL{Path: path}))
	if err != nil || f.status != http.StatusOK {
		return url.Values{}
	}
	return FormDefaults(f.body)
}

func fieldNames(v url.Values, extra ...string) string {
	names := append([]string(nil), extra...)
	for k := range v {
		names = appendUnique(names, k)
	}
	return strings.Join(names, ",")
}
