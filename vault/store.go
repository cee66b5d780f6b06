package vault

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the layout this code reads and writes. Version 1 had one
// staff queue for every route; OpenStore brings such a file up to date
// (migrate.go).
const SchemaVersion = 2

var (
	// ErrNotFound means no live thread or item matches. A wrong receipt, an
	// expired thread and one that never existed all give this same error.
	ErrNotFound = errors.New("not found")
	// ErrCorrupt means the store file is damaged.
	ErrCorrupt = errors.New("the store file is damaged")
	// ErrSchema means the store file has a layout this version cannot use.
	ErrSchema = errors.New("the store file has an unknown layout")
	// ErrLocked means another process has the store open.
	ErrLocked = errors.New("the store file is in use by another process")
	// ErrFull means the disk, or the store's quota, has no room left.
	// Nothing was written; the same request can succeed once there is room.
	ErrFull = errors.New("the disk is full")
	// ErrRollback means the record of the store's newest commit is
	// damaged, so opening it would silently undo that commit. It comes
	// with ErrCorrupt; Options.AcceptRollback opens the store anyway.
	ErrRollback = errors.New("the record of its newest commit is damaged")
)

var (
	bucketMeta    = []byte("meta")
	bucketThreads = []byte("threads")
	bucketLookup  = []byte("lookup")
	bucketItemIdx = []byte("itemindex")
	// bucketQueues holds one bucket per route: that route's staff queue.
	bucketQueues = []byte("queues")

	keySchema    = []byte("schema")
	keyLookupKey = []byte("lookup-key")
	keyCursorKey = []byte("cursor-key")

	keyInfo      = []byte("info")
	bucketItems  = []byte("items")
	bucketSealed = []byte("sealed")
)

// Options tune a Store. The zero value is usable.
type Options struct {
	// Timeout is how long Open waits for another process's lock. Default 1s.
	Timeout time.Duration
	// Now is the clock; only its calendar day is ever kept. Default time.Now.
	Now func() time.Time
	// RetentionDays is how long a thread lives without activity; past it a
	// thread is treated as gone even before DeleteInactive removes it.
	// Zero means 90.
	RetentionDays int
	// ReadOnly opens the file without writing to it.
	ReadOnly bool
	// AcceptRollback opens a store whose newest commit record is damaged
	// at the commit before it, losing the last commit, rather than
	// refusing with ErrRollback.
	AcceptRollback bool
	// Drained, if set, is called after a commit of acknowledgements that
	// left a route's staff queue empty: the moment to compact the file, so
	// that its page order no longer shows in what order those items
	// arrived (Compact). It is called without the store's lock held.
	Drained func()
}

// Store is the sealed store in one bbolt file. It holds ciphertext, wrapped
// reply secrets, calendar days and random ids; nothing that names a reporter.
type Store struct {
	// mu lets Compact swap the file: every operation holds it for reading.
	mu        sync.RWMutex
	db        *bolt.DB
	path      string
	now       func() time.Time
	retention int
	lookupKey secret
	cursorKey secret // seals the cursors of staff queue pages (cursor.go)
	drained   func() // Options.Drained
	notices   []string
	// old says a read-only store has an older schema's layout: it can be
	// copied and verified, not served.
	old bool

	// clockMu guards trusted, the last day the store believed the clock
	// (clock.go).
	clockMu sync.Mutex
	trusted string
	// queueMu guards qd, what is known to be wrong with the staff queue
	// (queuecheck.go).
	queueMu sync.Mutex
	qd      queueDamage

	// replies makes thread reply identities ahead of time.
	replies *replyPool
}

// ThreadInfo is what the server knows of a thread.
type ThreadInfo struct {
	ID             string
	Route          string
	Created        string // calendar day
	Active         string // calendar day of the last activity
	RepliesWaiting bool   // team replies the reporter has not yet seen
	Read           bool   // a team member has fetched and acknowledged the report
}

// Item is a sealed envelope on its way to the team. It carries no queue
// position: a member learns nothing of how many items came before it.
type Item struct {
	ID     string
	Thread string
	Route  string
	Kind   Kind
	Day    string
	Sealed []byte
}

type threadRecord struct {
	Route          string `json:"route"`
	Created        string `json:"created"`
	Active         string `json:"active"`
	RepliesWaiting bool   `json:"replies_waiting,omitempty"`
	Read           bool   `json:"read,omitempty"`
	Lookup         []byte `json:"lookup"`
	Salt           []byte `json:"salt"`
	WrappedReply   []byte `json:"wrapped_reply"`
	Items          int    `json:"items"`
	// Queued counts the thread's items still waiting for the team. A thread
	// with any never expires: nobody has read it yet.
	Queued int `json:"queued,omitempty"`
}

type itemRecord struct {
	N    int    `json:"n"` // order within the thread
	Kind Kind   `json:"kind"`
	Day  string `json:"day"`
	// Seq is the item's position in its route's staff queue; 0 when it
	// does not wait there.
	Seq     uint64   `json:"seq,omitempty"`
	AckedBy []string `json:"acked_by,omitempty"`
	Purged  bool     `json:"purged,omitempty"`
}

// queueEntry is the value at a position of a route's staff queue. The route
// is the queue's; the entry names the item within it.
type queueEntry struct {
	Thread []byte `json:"thread"`
	Item   []byte `json:"item"`
}

// Close closes the store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies.close()
	return s.db.Close()
}

func newID() ([]byte, error) {
	u, err := uuid.NewRandom()
	if err != nil {
		return nil, fmt.Errorf("failed to read randomness: %w", err)
	}
	return u[:], nil
}

func idString(b []byte) string {
	u, err := uuid.FromBytes(b)
	if err != nil {
		return ""
	}
	return u.String()
}

// ValidID reports whether s is a thread or item id as the vault writes
// them: a lower-case UUID in its 36-character form.
func ValidID(s string) bool {
	_, err := parseID(s)
	return err == nil && strings.ToLower(s) == s
}

func parseID(s string) ([]byte, error) {
	u, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return nil, ErrNotFound
	}
	return u[:], nil
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// CreateThread seals report to the route's team and stores it as a new
// thread. It returns the receipt only once the thread is durably committed.
// It sets report's Kind, Day, Route and ReplyTo.
func (s *Store) CreateThread(route string, report *Envelope, team []age.Recipient) (Receipt, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	receipt, err := NewReceipt()
	if err != nil {
		return Receipt{}, err
	}
	reply, err := s.replies.get()
	if err != nil {
		return Receipt{}, err
	}
	threadID, err := newID()
	if err != nil {
		return Receipt{}, err
	}
	itemID, err := newID()
	if err != nil {
		return Receipt{}, err
	}
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return Receipt{}, fmt.Errorf("failed to read randomness: %w", err)
	}
	wrapped, err := wrapReplyIdentity(receipt, salt, threadID, reply.secret)
	if err != nil {
		return Receipt{}, err
	}
	day := s.today()
	report.Kind, report.Day, report.Route = KindReport, day, route
	report.ReplyTo = reply.recipient
	sealed, err := Seal(report, team...)
	if err != nil {
		return Receipt{}, err
	}
	rec := threadRecord{
		Route: route, Created: day, Active: day,
		Lookup: lookupID(s.lookupKey.reveal(), receipt), Salt: salt, WrappedReply: wrapped,
	}
	// Batch may run this function more than once; everything random was
	// decided above, so each run writes the same thing.
	err = s.db.Batch(func(tx *bolt.Tx) error {
		lookup := tx.Bucket(bucketLookup)
		if lookup.Get(rec.Lookup) != nil {
			return errors.New("receipt collision")
		}
		tb, err := tx.Bucket(bucketThreads).CreateBucket(threadID)
		if err != nil {
			return err
		}
		if err := lookup.Put(rec.Lookup, threadID); err != nil {
			return err
		}
		r := rec
		return s.putItem(tx, tb, &r, threadID, itemID, KindReport, day, sealed)
	})
	if err != nil {
		return Receipt{}, fmt.Errorf("failed to store report: %w", writeErr(err))
	}
	return receipt, nil
}

// putItem adds a sealed item to a thread and to the staff queue, and saves
// the thread record.
func (s *Store) putItem(tx *bolt.Tx, tb *bolt.Bucket, rec *threadRecord, threadID, itemID []byte, kind Kind, day string, sealed []byte) error {
	items, err := tb.CreateBucketIfNotExists(bucketItems)
	if err != nil {
		return err
	}
	sb, err := tb.CreateBucketIfNotExists(bucketSealed)
	if err != nil {
		return err
	}
	seq, err := enqueue(tx, rec.Route, threadID, itemID)
	if err != nil {
		return err
	}
	rec.Items++
	rec.Queued++
	ir := itemRecord{N: rec.Items, Kind: kind, Day: day, Seq: seq}
	if err := putJSON(items, itemID, ir); err != nil {
		return err
	}
	if err := sb.Put(itemID, sealed); err != nil {
		return err
	}
	if err := tx.Bucket(bucketItemIdx).Put(itemID, threadID); err != nil {
		return err
	}
	rec.Active = laterDay(day, rec.Created)
	return putJSON(tb, keyInfo, rec)
}

// writeErr marks a write that failed for want of room with ErrFull.
func writeErr(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", ErrFull, err)
	}
	return err
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

func getJSON(b *bolt.Bucket, key []byte, v any) error {
	data := b.Get(key)
	if data == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: unreadable record", ErrCorrupt)
	}
	return nil
}

// thread finds a live thread by receipt inside tx.
func (s *Store) thread(tx *bolt.Tx, r Receipt) ([]byte, *bolt.Bucket, *threadRecord, error) {
	if r.isZero() {
		return nil, nil, nil, ErrNotFound
	}
	id := tx.Bucket(bucketLookup).Get(lookupID(s.lookupKey.reveal(), r))
	if id == nil {
		return nil, nil, nil, ErrNotFound
	}
	id = bytes.Clone(id)
	tb, rec, err := s.threadByID(tx, id)
	return id, tb, rec, err
}

func (s *Store) threadByID(tx *bolt.Tx, id []byte) (*bolt.Bucket, *threadRecord, error) {
	tb := tx.Bucket(bucketThreads).Bucket(id)
	if tb == nil {
		return nil, nil, ErrNotFound
	}
	var rec threadRecord
	if err := getJSON(tb, keyInfo, &rec); err != nil {
		return nil, nil, err
	}
	if s.expired(&rec) {
		return nil, nil, ErrNotFound
	}
	return tb, &rec, nil
}

// expired reports whether a thread is past retention. A thread the team
// has not fetched yet never is, and neither is one whose last activity
// looks later than today: that is a clock gone wrong, not an old thread.
func (s *Store) expired(rec *threadRecord) bool {
	return rec.Queued == 0 && daysBetween(rec.Active, s.today()) > s.retention
}

func info(id []byte, rec *threadRecord) ThreadInfo {
	return ThreadInfo{
		ID: idString(id), Route: rec.Route, Created: rec.Created, Active: rec.Active,
		RepliesWaiting: rec.RepliesWaiting, Read: rec.Read,
	}
}

// Thread looks up a receipt's thread. A wrong, unknown or expired receipt
// gives ErrNotFound alike.
func (s *Store) Thread(r Receipt) (ThreadInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ti ThreadInfo
	err := s.db.View(func(tx *bolt.Tx) error {
		id, _, rec, err := s.thread(tx, r)
		if err != nil {
			return err
		}
		ti = info(id, rec)
		return nil
	})
	return ti, err
}

// FollowUp seals a reporter's further message to the team and adds it to
// the receipt's thread. It returns once the message is durably committed.
func (s *Store) FollowUp(r Receipt, msg *Envelope, team []age.Recipient) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var route string
	err := s.db.View(func(tx *bolt.Tx) error {
		_, _, rec, err := s.thread(tx, r)
		if err == nil {
			route = rec.Route
		}
		return err
	})
	if err != nil {
		return err
	}
	itemID, err := newID()
	if err != nil {
		return err
	}
	day := s.today()
	msg.Kind, msg.Day, msg.Route, msg.ReplyTo, msg.Author = KindFollowUp, day, route, "", ""
	sealed, err := Seal(msg, team...)
	if err != nil {
		return err
	}
	err = s.db.Batch(func(tx *bolt.Tx) error {
		id, tb, rec, err := s.thread(tx, r)
		if err != nil {
			return err
		}
		return s.putItem(tx, tb, rec, id, itemID, KindFollowUp, day, sealed)
	})
	return writeErr(err)
}

// Replies opens the team's replies on the receipt's thread, oldest first,
// with the reply identity that only the receipt unwraps. Viewing marks the
// replies seen and counts as activity, unless the disk is full.
func (s *Store) Replies(r Receipt) ([]*Envelope, ThreadInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var (
		ti     ThreadInfo
		sealed [][]byte
		id     *age.HybridIdentity
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		tid, tb, rec, err := s.thread(tx, r)
		if err != nil {
			return err
		}
		ti = info(tid, rec)
		if id, err = unwrapReplyIdentity(r, rec.Salt, tid, rec.WrappedReply); err != nil {
			return ErrNotFound
		}
		sealed, err = replies(tb)
		return err
	})
	if err != nil {
		return nil, ThreadInfo{}, err
	}
	out := make([]*Envelope, 0, len(sealed))
	for _, b := range sealed {
		e, err := Open(b, id)
		if err != nil || e.Kind != KindReply {
			continue // a reply the reporter cannot open is one they never see
		}
		out = append(out, e)
	}
	if ti.RepliesWaiting || ti.Active != s.today() {
		err = s.db.Batch(func(tx *bolt.Tx) error {
			_, tb, rec, err := s.thread(tx, r)
			if err != nil {
				return err
			}
			rec.RepliesWaiting, rec.Active = false, laterDay(s.today(), rec.Created)
			return putJSON(tb, keyInfo, rec)
		})
		// On a full disk the reporter still reads the replies; only the
		// record of this visit is lost.
		if err = writeErr(err); err != nil && !errors.Is(err, ErrFull) {
			return nil, ThreadInfo{}, fmt.Errorf("failed to update thread: %w", err)
		}
	}
	return out, ti, nil
}

// replies returns a thread's reply envelopes in the order they arrived.
func replies(tb *bolt.Bucket) ([][]byte, error) {
	items, sb := tb.Bucket(bucketItems), tb.Bucket(bucketSealed)
	if items == nil || sb == nil {
		return nil, nil
	}
	type entry struct {
		n      int
		sealed []byte
	}
	var es []entry
	err := items.ForEach(func(k, v []byte) error {
		var ir itemRecord
		if err := json.Unmarshal(v, &ir); err != nil {
			return fmt.Errorf("%w: unreadable item", ErrCorrupt)
		}
		if ir.Kind == KindReply {
			es = append(es, entry{ir.N, bytes.Clone(sb.Get(k))})
		}
		return nil
	})
	out := make([][]byte, len(es))
	// Few replies per thread: a simple insertion sort keeps order by N.
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].n < es[j-1].n; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
	for i, e := range es {
		out[i] = e.sealed
	}
	return out, err
}

func unmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: unreadable record", ErrCorrupt)
	}
	return nil
}
