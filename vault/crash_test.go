package vault

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hearken-project/hearken/internal/testkit"
)

// crashChildName is the name the test binary runs crashChild under.
const crashChildName = "crashchild"

// crashChild (crashchild STORE TEAMFILE) creates threads from 16 goroutines
// and prints each receipt the moment CreateThread returns, until it is
// killed.
func crashChild() int {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: crashchild STORE TEAMFILE")
		return 2
	}
	team, err := LoadTeam(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	s, err := OpenStore(os.Args[1], nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				r, err := s.CreateThread("safeguarding", report("crash test report"), team.Recipients())
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintln(out, r.Reveal())
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return 0
}

// TestCrashDurability kills a writer with SIGKILL at random moments and
// proves every receipt it printed finds its thread after reopening, and the
// file passes bbolt's consistency check.
func TestCrashDurability(t *testing.T) {
	t.Parallel() // its waits are on the disk or a child process
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := testTeam(t, 2)
	var teamText strings.Builder
	for _, m := range ms {
		teamText.WriteString(m.TeamLine() + "\n")
	}
	dir := t.TempDir()
	teamPath := filepath.Join(dir, "team")
	if err := os.WriteFile(teamPath, []byte(teamText.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "crash.db")
	total := 0
	const kills = 12
	for round := range kills {
		// Started under crashChildName, testkit.Main runs crashChild.
		cmd := &exec.Cmd{Path: exe, Args: []string{crashChildName, path, teamPath}}
		stdout, _ := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var acked []string
		writing := make(chan struct{}) // closed at the first receipt
		done := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if acked = append(acked, sc.Text()); len(acked) == 1 {
					close(writing)
				}
			}
			close(done)
		}()
		// Kill at a random moment once the child is committing threads,
		// however long it took to start.
		select {
		case <-writing:
		case <-done:
			cmd.Wait()
			t.Fatalf("round %d: child stopped before writing: %s", round, stderr.String())
		case <-time.After(testkit.Patience):
			cmd.Process.Kill()
			t.Fatalf("round %d: child wrote nothing", round)
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(300))
		time.Sleep(time.Duration(n.Int64()) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		cmd.Wait()
		if strings.TrimSpace(stderr.String()) != "" {
			t.Fatalf("round %d: child failed: %s", round, stderr.String())
		}

		s, err := OpenStore(path, nil)
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		err = s.db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: consistency check: %v", round, err)
		}
		for _, code := range acked {
			r, err := ParseReceipt(code)
			if err != nil {
				t.Fatalf("round %d: child printed a bad receipt", round)
			}
			if _, err := s.Thread(r); err != nil {
				t.Fatalf("round %d: acknowledged thread lost: %v", round, err)
			}
		}
		s.Close()
		total += len(acked)
		t.Logf("round %d: %d acknowledged threads survived SIGKILL", round, len(acked))
	}
	if total < kills {
		t.Fatalf("only %d threads acknowledged over %d rounds: the test proved little", total, kills)
	}
}
