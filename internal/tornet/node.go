package tornet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hearken-project/hearken/internal/onion"
)

// node is one tor process of the network.
type node struct {
	name    string
	dir     string
	orPort  int
	dirPort int

	torrc   []string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	ctl     *onion.Control
}

func (nd *node) path(name string) string { return filepath.Join(nd.dir, name) }

// start runs tor on the node's torrc. An empty defaults file keeps the
// system's /etc/tor/torrc and tor-service-defaults out of the network.
func (nd *node) start(tor string, torrc []string) error {
	nd.torrc = torrc
	if err := writeTorrc(nd.path("torrc"), torrc); err != nil {
		return err
	}
	if err := os.WriteFile(nd.path("torrc-defaults"), nil, 0o600); err != nil {
		return err
	}
	out, err := os.Create(nd.path("stdout.log"))
	if err != nil {
		return err
	}
	defer out.Close()
	nd.cmd = exec.Command(tor, "-f", nd.path("torrc"), "--defaults-torrc", nd.path("torrc-defaults"))
	nd.cmd.Stdout, nd.cmd.Stderr = out, out
	if err := nd.cmd.Start(); err != nil {
		return fmt.Errorf("failed to start tor for %s: %w", nd.name, err)
	}
	nd.exited = make(chan struct{})
	go func() {
		nd.waitErr = nd.cmd.Wait()
		close(nd.exited)
	}()
	return nil
}

// gone returns an error if the node's tor has exited.
func (nd *node) gone() error {
	select {
	case <-nd.exited:
		return fmt.Errorf("tor for %s exited (%v)", nd.name, nd.waitErr)
	default:
		return nil
	}
}

// dialControl opens a second connection to the node's control port, for a
// caller that wants events of its own.
func (nd *node) dialControl(ctx context.Context) (*onion.Control, error) {
	b, err := os.ReadFile(nd.path("control-port"))
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if addr, ok := strings.CutPrefix(strings.TrimSpace(line), "PORT="); ok {
			return onion.DialControl(ctx, addr, "")
		}
	}
	return nil, fmt.Errorf("tornet: %s wrote no control port", nd.name)
}

// connect waits for the control port tor writes to its file and logs in.
func (nd *node) connect(ctx context.Context) error {
	var last error
	err := poll(ctx, nd.name+"'s control port", []*node{nd}, func() (bool, error) {
		// "PORT=127.0.0.1:1234", and "UNIX_PORT=/path" for a ControlSocket.
		b, err := os.ReadFile(nd.path("control-port"))
		if err != nil {
			return false, nil
		}
		for _, line := range strings.Split(string(b), "\n") {
			if addr, ok := strings.CutPrefix(strings.TrimSpace(line), "PORT="); ok {
				nd.ctl, last = onion.DialControl(ctx, addr, "")
				return last == nil, nil
			}
		}
		return false, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("%w (last attempt: %v)", err, last)
	}
	return err
}

// bootstrapped reports whether tor says it is 100% bootstrapped.
func (nd *node) bootstrapped(ctx context.Context) (bool, error) {
	v, err := nd.ctl.GetInfo(ctx, "status/bootstrap-phase")
	if err != nil {
		return false, err
	}
	return strings.Contains(v["status/bootstrap-phase"], " PROGRESS=100 "), nil
}

// seesRelays counts the relays in the node's consensus that can hold onion
// service descriptors and carry circuits (Running, Valid, HSDir, Guard).
func (nd *node) seesRelays(ctx context.Context) (int, error) {
	v, err := nd.ctl.GetInfo(ctx, "ns/all")
	if ce := (*onion.ControlError)(nil); errors.As(err, &ce) {
		return 0, nil // no consensus yet
	} else if err != nil {
		return 0, err
	}
	count := 0
	sc := bufio.NewScanner(strings.NewReader(v["ns/all"]))
	for sc.Scan() {
		flags, ok := strings.CutPrefix(sc.Text(), "s ")
		if !ok {
			continue
		}
		have := map[string]bool{}
		for _, f := range strings.Fields(flags) {
			have[f] = true
		}
		if have["Running"] && have["Valid"] && have["HSDir"] && have["Guard"] {
			count++
		}
	}
	return count, nil
}

// ready waits until the node is bootstrapped and its consensus lists all
// want relays.
func (nd *node) ready(ctx context.Context, want int) error {
	return poll(ctx, nd.name+" to bootstrap", []*node{nd}, func() (bool, error) {
		if ok, err := nd.bootstrapped(ctx); err != nil || !ok {
			return false, err
		}
		got, err := nd.seesRelays(ctx)
		return got >= want, err
	})
}

// stop ends tor: SIGTERM makes even a relay exit at once; a tor that does
// not is killed.
func (nd *node) stop() {
	if nd.ctl != nil {
		nd.ctl.Close()
	}
	if nd.cmd == nil || nd.cmd.Process == nil {
		return
	}
	nd.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-nd.exited:
	case <-time.After(10 * time.Second):
		nd.cmd.Process.Kill()
		<-nd.exited
	}
}

// logTail returns the last lines of the node's log, for a failed test.
func (nd *node) logTail(lines int) string {
	var all []byte
	for _, f := range []string{"stdout.log", "notice.log"} {
		b, _ := os.ReadFile(nd.path(f))
		all = append(all, b...)
	}
	ls := bytes.Split(bytes.TrimSpace(all), []byte("\n"))
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return string(bytes.Join(ls, []byte("\n")))
}

// pollEvery is how often conditions are checked: a condition poll, not a
// pause that stands in for one.
const pollEvery = 250 * time.Millisecond

// poll calls check until it reports done, fails, one of nodes exits, or
// ctx ends.
func poll(ctx context.Context, what string, nodes []*node, check func() (bool, error)) error {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		done, err := check()
		if done {
			return nil
		}
		for _, nd := range nodes {
			if gerr := nd.gone(); gerr != nil {
				return gerr
			}
		}
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up waiting for %s: %w", what, errors.Join(ctx.Err(), err))
		case <-t.C:
		}
	}
}
