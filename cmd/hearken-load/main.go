// Command hearken-load measures the public site of a running intake server:
// the weight of every public page, then the report flow's throughput and
// latency at several concurrencies, optionally under a slowloris attack
// (--slowloris 1000). It prints figures; a missed goal does not change its
// exit status.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/hearken-project/hearken/internal/loadtest"
)

func main() {
	var c loadtest.Config
	flag.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "base URL of the intake server")
	flag.IntVar(&c.PID, "pid", 0, "process id of the server, to report its peak memory")
	flag.DurationVar(&c.Duration, "duration", 10*time.Second, "how long each concurrency level runs")
	flag.IntVar(&c.MaxRequests, "max-requests", 100000, "most requests per concurrency level")
	conc := flag.String("concurrency", "1,8,64", "comma-separated numbers of concurrent reporters")
	flag.StringVar(&c.Lang, "lang", "en", "language prefix to submit through")
	flag.BoolVar(&c.AllowRemote, "allow-remote", false, "allow a target that is not a loopback address")
	flag.IntVar(&c.Slowloris, "slowloris", 0, "hold this many slowloris connections open while measuring (the goal: 1000, with every request answered, p99 under 1 s, server memory at most 200 MiB)")
	flag.Parse()
	if flag.NArg() > 0 {
		usage(fmt.Errorf("unexpected argument %q", flag.Arg(0)))
	}
	var err error
	if c.Concurrency, err = loadtest.ParseConcurrency(*conc); err != nil {
		usage(err)
	}
	c.Out = os.Stdout

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	_, err = loadtest.Run(ctx, c)
	switch {
	case err == nil:
	case errors.Is(err, loadtest.ErrUnreachable), errors.Is(err, loadtest.ErrAllFailed):
		fmt.Fprintf(os.Stderr, "hearken-load: %v\n", err)
		os.Exit(1)
	default:
		usage(err)
	}
}

func usage(err error) {
	fmt.Fprintf(os.Stderr, "hearken-load: %v\n", err)
	os.Exit(2)
}
