package vault

import (
	"fmt"
	"sync"

	"filippo.io/age"
)

// replyPoolSize is how many reply identities are made ahead of time. A
// burst of that many reports finds its keys ready; past it, keys are made
// as reports arrive, as they would be without the pool.
const replyPoolSize = 64

// replyPool makes thread reply identities in the background, one
// goroutine at a time, while the store waits on the disk: making an
// ML-KEM-768 + X25519 identity is a tenth of what a new thread costs, and
// it need not wait for the report. Each identity is handed out once and
// never kept anywhere else; the pool holds at most replyPoolSize, in
// memory only, and drops them when the store closes. (Holding them adds
// nothing to what the process already sees: the reports themselves.)
type replyPool struct {
	start, end sync.Once
	ready      chan *replyKey
	stop       chan struct{}
	done       chan struct{}
}

func newReplyPool() *replyPool {
	return &replyPool{
		ready: make(chan *replyKey, replyPoolSize),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
}

// replyKey is a thread's reply identity with its two encodings, worked out
// ahead too: deriving the recipient repeats much of making the key.
type replyKey struct {
	secret    string // the identity, AGE-SECRET-KEY-PQ-1...; wrapped before it is stored
	recipient string // age1pq1..., sealed into the report
}

func newReplyKey() (*replyKey, error) {
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		return nil, fmt.Errorf("failed to create reply key: %w", err)
	}
	return &replyKey{secret: id.String(), recipient: id.Recipient().String()}, nil
}

// get returns a new reply key: one made ahead if there is one, else a
// fresh one. The first call starts the background maker, so stores that
// never create a thread (a backup, the reviewer's tests) never run it.
func (p *replyPool) get() (*replyKey, error) {
	p.start.Do(func() { go p.fill() })
	select {
	case k := <-p.ready:
		return k, nil
	default:
	}
	return newReplyKey()
}

func (p *replyPool) fill() {
	defer close(p.done)
	for {
		k, err := newReplyKey()
		if err != nil {
			return // get makes its own, and reports the error
		}
		select {
		case p.ready <- k:
		case <-p.stop:
			return
		}
	}
}

// close stops the maker and drops the identities made ahead. It may be
// called more than once.
func (p *replyPool) close() {
	p.end.Do(func() { close(p.stop) })
	p.start.Do(func() { close(p.done) }) // never started
	<-p.done
	for {
		select {
		case <-p.ready:
		default:
			return
		}
	}
}
