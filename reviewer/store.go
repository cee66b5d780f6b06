package reviewer

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// The local case store: one bbolt file in the store folder. Items are kept
// exactly as the server sent them (age-sealed, to the team), and so are the
// replies written here. Triage, chronology entries and the per-case
// summaries list reads are sealed under the store's data key (localkey.go).
// Case numbers, thread ids, routes, kinds and calendar days are kept in the
// clear: the server knows them too.

const (
	storeFile   = "cases.db"
	storeSchema = 2
)

var (
	// ErrNoStore means there is no case store in the folder yet.
	ErrNoStore = errors.New("there are no cases on this computer yet: run reviewer sync first")
	// ErrStoreCorrupt means the case store failed its checks.
	ErrStoreCorrupt = errors.New("the local case store is damaged")
	// ErrStoreLocked means another reviewer command has the store open.
	ErrStoreLocked = errors.New("the local case store is in use by another reviewer command; wait for it to finish")
	// ErrOtherIdentity means the store was made with another member's key.
	ErrOtherIdentity = errors.New("this case store belongs to a different identity; use the --identity that created it, or another --store folder")
	// ErrNoCase means a case number is not in the store.
	ErrNoCase = errors.New("there is no such case on this computer (see reviewer list)")
)

var (
	bMeta        = []byte("meta")
	bItems       = []byte("items")       // item id -> itemMeta JSON
	bSealed      = []byte("sealed")      // order (BE) -> sealed bytes, as received
	bThreads     = []byte("threads")     // thread id -> caseRec JSON
	bCaseNums    = []byte("casenums")    // case number (BE) -> thread id
	bThreadItems = []byte("threaditems") // thread id + order (BE) -> item id
	bChrono      = []byte("chrono")      // thread id + seq (BE) -> sealed entry
	bTriage      = []byte("triage")      // thread id -> sealed Triage
	bOutbox      = []byte("outbox")      // item id -> thread id, replies to push
	bToAck       = []byte("toack")       // item id -> "", stored but not yet acknowledged
	bAside       = []byte("aside")       // item id -> reason it could not be opened
	bSummaries   = []byte("summaries")   // thread id -> sealed caseDigest
	// Items whose labels could not be ours, so they belong to no case:
	// item id (or "sha256:" and the hash of the item, for an unusable id)
	// -> rejectedItem JSON, the item kept exactly as it arrived.
	bRejected = []byte("rejected")

	// baseBuckets are required in every store of this schema; addedBuckets
	// came later and are made when an older store is opened.
	baseBuckets = [][]byte{bMeta, bItems, bSealed, bThreads, bCaseNums, bThreadItems,
		bChrono, bTriage, bOutbox, bToAck, bAside, bSummaries}
	addedBuckets = [][]byte{bRejected}
	allBuckets   = append(append([][]byte{}, baseBuckets...), addedBuckets...)

	kSchema   = []byte("schema")
	kOwner    = []byte("owner")
	kDataKey  = []byte("datakey") // the data key, age-wrapped to the owner
	kCursor   = []byte("cursor")
	kNextCase = []byte("nextcase")
)

// itemMeta is what the store keeps in the clear about an item.
type itemMeta struct {
	ID     string     `json:"id"`
	Seq    uint64     `json:"seq,omitempty"`
	Thread string     `json:"thread"`
	Route  string     `json:"route"`
	Kind   vault.Kind `json:"kind"`
	Day    string     `json:"day"`
	Order  uint64     `json:"order"`          // local arrival order
	Mine   bool       `json:"mine,omitempty"` // a reply written on this machine
	Sent   bool       `json:"sent,omitempty"` // the server has it
	Failed string     `json:"failed,omitempty"`
}

// caseRec maps a thread to its local case number.
type caseRec struct {
	Number uint64 `json:"number"`
	Thread string `json:"thread"`
	Route  string `json:"route"`
	First  string `json:"first"` // calendar day the first item arrived here
}

// Store is the local case store.
type Store struct {
	db   *bolt.DB
	m    *vault.Member
	key  *localKey
	path string
	now  func() time.Time
}

// StorePath returns the case store file in dir.
func StorePath(dir string) string { return filepath.Join(dir, storeFile) }

// OpenStore opens the case store in dir for m. With create, a missing store
// is made (sync does this); otherwise a missing store is ErrNoStore. An
// existing file is never recreated: a damaged one is refused.
func OpenStore(dir string, m *vault.Member, create bool) (s *Store, err error) {
	path := StorePath(dir)
	fi, statErr := os.Stat(path)
	switch {
	case errors.Is(statErr, os.ErrNotExist):
		if !create {
			return nil, ErrNoStore
		}
		if err := createStore(dir, m); err != nil {
			return nil, err
		}
	case statErr != nil:
		return nil, fmt.Errorf("failed to open the case store: %w", statErr)
	case fi.Size() == 0:
		return nil, corruptStore(path)
	}
	defer func() {
		// bbolt may panic on a damaged file.
		if r := recover(); r != nil {
			s, err = nil, corruptStore(path)
		}
	}()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, ErrStoreLocked
	case err != nil:
		return nil, corruptStore(path)
	}
	s = &Store{db: db, m: m, path: path, now: time.Now}
	if err := s.check(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.addBuckets(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.unlock(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// unlock unwraps the store's data key with the member's identity.
func (s *Store) unlock() error {
	var wrapped []byte
	s.db.View(func(tx *bolt.Tx) error {
		wrapped = bytes.Clone(tx.Bucket(bMeta).Get(kDataKey))
		return nil
	})
	k, err := unwrapDataKey(wrapped, s.m)
	if err != nil {
		return corruptStore(s.path)
	}
	s.key = k
	return nil
}

func corruptStore(path string) error {
	return fmt.Errorf("%w (%s): it has not been changed. Do not delete it: restore it from your backup, or ask for help; reviewer will not recreate it", ErrStoreCorrupt, path)
}

// createStore lays out a new store under a temporary name and renames it in
// place, so a half-made store never sits under the real name.
func createStore(dir string, m *vault.Member) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("failed to create store folder: %w", err)
	}
	tmp := StorePath(dir) + ".new"
	os.Remove(tmp)
	wrapped, err := newDataKey(m)
	if err != nil {
		return fmt.Errorf("failed to create the case store: %w", err)
	}
	db, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("failed to create the case store: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bMeta)
		if err := meta.Put(kSchema, []byte(strconv.Itoa(storeSchema))); err != nil {
			return err
		}
		if err := meta.Put(kDataKey, wrapped); err != nil {
			return err
		}
		return meta.Put(kOwner, []byte(vault.FormatSigningKey(m.SigningPublic())))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("failed to create the case store: %w", err)
	}
	if err := os.Rename(tmp, StorePath(dir)); err != nil {
		return fmt.Errorf("failed to create the case store: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func (s *Store) check() error {
	return s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			if err != nil {
				return corruptStore(s.path)
			}
		}
		for _, b := range baseBuckets {
			if tx.Bucket(b) == nil {
				return corruptStore(s.path)
			}
		}
		meta := tx.Bucket(bMeta)
		if v, err := strconv.Atoi(string(meta.Get(kSchema))); err != nil || v != storeSchema {
			return fmt.Errorf("%w (%s): it was written by another version of reviewer; it has not been changed", ErrStoreCorrupt, s.path)
		}
		if !bytes.Equal(meta.Get(kOwner), []byte(vault.FormatSigningKey(s.m.SigningPublic()))) {
			return ErrOtherIdentity
		}
		return nil
	})
}

// addBuckets makes the buckets a store made by an earlier reviewer lacks.
func (s *Store) addBuckets() error {
	missing := false
	s.db.View(func(tx *bolt.Tx) error {
		for _, b := range addedBuckets {
			missing = missing || tx.Bucket(b) == nil
		}
		return nil
	})
	if !missing {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range addedBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("failed to update the case store: %w", err)
	}
	return nil
}

// Close closes the store.
func (s *Store) Close() error {
	s.key = nil
	return s.db.Close()
}

func (s *Store) today() string { return vault.Today(s.now()) }

func be(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func threadKey(thread string, n uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(thread), n)
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

func getJSON(b *bolt.Bucket, k []byte, v any) error {
	data := b.Get(k)
	if data == nil {
		return ErrNoCase
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: an unreadable record", ErrStoreCorrupt)
	}
	return nil
}

// Cursor returns the highest sequence number pulled so far. It records
// progress only: a sync always asks from the start of the member's queue,
// because the server may renumber (restored from a backup) or add a route's
// older items to the member's view.
func (s *Store) Cursor() (uint64, error) {
	var c uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bMeta).Get(kCursor); len(v) == 8 {
			c = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return c, err
}

// caseFor returns the case of thread, creating it (next number) if new.
func caseFor(tx *bolt.Tx, thread, route, day string) (caseRec, bool, error) {
	threads := tx.Bucket(bThreads)
	var c caseRec
	if threads.Get([]byte(thread)) != nil {
		err := getJSON(threads, []byte(thread), &c)
		return c, false, err
	}
	meta := tx.Bucket(bMeta)
	var n uint64 = 1
	if v := meta.Get(kNextCase); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	if err := meta.Put(kNextCase, be(n+1)); err != nil {
		return c, false, err
	}
	c = caseRec{Number: n, Thread: thread, Route: route, First: day}
	if err := putJSON(threads, []byte(thread), c); err != nil {
		return c, false, err
	}
	return c, true, tx.Bucket(bCaseNums).Put(be(n), []byte(thread))
}

// putItem adds a new item and indexes it under its thread. Sealed items
// are keyed by arrival order, so a page of them is appended at the end of
// the bucket rather than scattered through it.
func putItem(tx *bolt.Tx, m itemMeta, sealed []byte) error {
	items := tx.Bucket(bItems)
	order, err := items.NextSequence()
	if err != nil {
		return err
	}
	m.Order = order
	if err := putJSON(items, []byte(m.ID), m); err != nil {
		return err
	}
	sb := tx.Bucket(bSealed)
	sb.FillPercent = 1
	if err := sb.Put(be(order), sealed); err != nil {
		return err
	}
	return tx.Bucket(bThreadItems).Put(threadKey(m.Thread, order), []byte(m.ID))
}

// Stored reports what one StoreItems call did.
type Stored struct {
	New      []string       // ids of items new to this store
	NewCases []string       // case numbers created
	SetAside []SetAsideItem // new items that could not be opened
	Rejected int            // of those, items set aside for their labels (no case)
}

// StoreItems checks and stores a page of pulled items. Each new item is
// opened once, on every CPU, to catch tampering and to take what list shows
// of a report; then the items, their set-aside marks, the summaries of their
// cases and the cursor are written in one transaction, so an item is stored
// exactly once however a sync is cut short. Items already present (a
// repeated page, or a reply written here) are left as they are.
func (s *Store) StoreItems(items []staff.Item) (Stored, error) {
	checks, err := s.checkPage(items)
	if err != nil {
		return Stored{}, err
	}
	return s.commitPage(items, checks, nil)
}

// checkPage checks a page's labels and opens the items not yet stored. An
// item with a bad label is marked to be set aside, not refused, so one bad
// item cannot block the member's queue.
func (s *Store) checkPage(items []staff.Item) ([]itemCheck, error) {
	checks := make([]itemCheck, len(items))
	known := make([]bool, len(items))
	for i, it := range items {
		if err := checkWireItem(it); err != nil {
			checks[i] = itemCheck{done: true, rejected: err.Error()}
		}
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		ib, rb := tx.Bucket(bItems), tx.Bucket(bRejected)
		for i, it := range items {
			known[i] = (vault.ValidID(it.ID) && ib.Get([]byte(it.ID)) != nil) || rb.Get(rejectedKey(it)) != nil
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to store items: %w", err)
	}
	parallel(len(items), func(i int) {
		if !known[i] && checks[i].rejected == "" {
			checks[i] = s.checkItem(items[i])
		}
	})
	return checks, nil
}

// rejectedItem is an item set aside for its labels, as it arrived.
type rejectedItem struct {
	Reason string     `json:"reason"`
	Day    string     `json:"day"` // the local day it arrived
	Item   staff.Item `json:"item"`
}

// rejectedKey is the key of an item in bRejected: its id when that is
// usable, else a hash of the whole item, so a repeat is stored once.
func rejectedKey(it staff.Item) []byte {
	if vault.ValidID(it.ID) {
		return []byte(it.ID)
	}
	data, _ := json.Marshal(it)
	sum := sha256.Sum256(data)
	return []byte("sha256:" + hex.EncodeToString(sum[:]))
}

// Rejected lists the items set aside for their labels.
func (s *Store) Rejected() ([]SetAsideItem, error) {
	var out []SetAsideItem
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bRejected).ForEach(func(k, v []byte) error {
			var r rejectedItem
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("%w: an unreadable record", ErrStoreCorrupt)
			}
			out = append(out, SetAsideItem{ID: string(k), Reason: r.Reason})
			return nil
		})
	})
	return out, err
}

// commitPage stores a checked page in one transaction, and forgets acked:
// ids the server has confirmed since the last commit.
func (s *Store) commitPage(items []staff.Item, checks []itemCheck, acked []string) (Stored, error) {
	var st Stored
	err := s.db.Update(func(tx *bolt.Tx) error {
		st = Stored{}
		meta, ib, tb := tx.Bucket(bMeta), tx.Bucket(bItems), tx.Bucket(bToAck)
		for _, id := range acked {
			if err := tb.Delete([]byte(id)); err != nil {
				return err
			}
		}
		var cursor uint64
		if v := meta.Get(kCursor); len(v) == 8 {
			cursor = binary.BigEndian.Uint64(v)
		}
		var touched []string
		seen := map[string]bool{}
		touch := func(thread string) {
			if !seen[thread] {
				seen[thread] = true
				touched = append(touched, thread)
			}
		}
		reports := map[string]reportText{}
		rb, ob := tx.Bucket(bRejected), tx.Bucket(bOutbox)
		for i, it := range items {
			cursor = max(cursor, it.Seq)
			if vault.ValidID(it.ID) {
				// Stored or set aside, it is acknowledged, so it leaves
				// this member's view.
				if err := tb.Put([]byte(it.ID), []byte{}); err != nil {
					return err
				}
			}
			if vault.ValidID(it.ID) && ib.Get([]byte(it.ID)) != nil {
				var m itemMeta
				if err := getJSON(ib, []byte(it.ID), &m); err != nil {
					return err
				}
				if m.Mine && (!m.Sent || m.Seq == 0 || m.Failed != "" || ob.Get([]byte(it.ID)) != nil) {
					// Our own reply, back from the server: it was
					// delivered, whatever an earlier push was told.
					m.Sent, m.Seq, m.Failed = true, it.Seq, ""
					if err := putJSON(ib, []byte(it.ID), m); err != nil {
						return err
					}
					if err := ob.Delete([]byte(it.ID)); err != nil {
						return err
					}
					touch(m.Thread)
				}
				continue
			}
			ck := checks[i]
			if !ck.done {
				// Present when the page was checked, gone now: check it
				// here, so that nothing is stored unchecked.
				if err := checkWireItem(it); err != nil {
					ck = itemCheck{done: true, rejected: err.Error()}
				} else {
					ck = s.checkItem(it)
				}
			}
			if ck.rejected != "" {
				key := rejectedKey(it)
				if rb.Get(key) != nil {
					continue
				}
				if err := putJSON(rb, key, rejectedItem{Reason: ck.rejected, Day: s.today(), Item: it}); err != nil {
					return err
				}
				st.SetAside = append(st.SetAside, SetAsideItem{ID: string(key), Reason: ck.rejected})
				st.Rejected++
				continue
			}
			c, fresh, err := caseFor(tx, it.Thread, it.Route, s.today())
			if err != nil {
				return err
			}
			if fresh {
				st.NewCases = append(st.NewCases, CaseNumber(c.Number))
			}
			m := itemMeta{ID: it.ID, Seq: it.Seq, Thread: it.Thread, Route: it.Route,
				Kind: it.Kind, Day: it.Day, Sent: true}
			if err := putItem(tx, m, it.Sealed); err != nil {
				return err
			}
			if ck.reason != "" {
				if err := tx.Bucket(bAside).Put([]byte(it.ID), []byte(ck.reason)); err != nil {
					return err
				}
				st.SetAside = append(st.SetAside, SetAsideItem{Case: CaseNumber(c.Number), ID: it.ID, Reason: ck.reason})
			}
			if ck.report != nil {
				reports[it.ID] = *ck.report
			}
			touch(it.Thread)
			st.New = append(st.New, it.ID)
		}
		for _, thread := range touched {
			if err := s.refreshDigest(tx, thread, reports); err != nil {
				return err
			}
		}
		return meta.Put(kCursor, be(cursor))
	})
	if err != nil {
		return Stored{}, fmt.Errorf("failed to store items: %w", err)
	}
	return st, nil
}

// checkWireItem refuses items whose labels could not be ours: the store keys
// records by these strings.
func checkWireItem(it staff.Item) error {
	bad := func(what string) error { return fmt.Errorf("the server sent it with an invalid %s", what) }
	switch {
	case !vault.ValidID(it.ID):
		return bad("id")
	case !vault.ValidID(it.Thread):
		return bad("thread id")
	case it.Seq == 0:
		return bad("sequence number")
	case !routeName.MatchString(it.Route):
		return bad("route")
	case it.Kind != vault.KindReport && it.Kind != vault.KindFollowUp && it.Kind != vault.KindReply:
		return bad("kind")
	case len(it.Sealed) == 0:
		return bad("content")
	}
	if _, err := time.Parse("2006-01-02", it.Day); err != nil {
		return bad("day")
	}
	return nil
}

// Outgoing is a reply waiting to be pushed.
type Outgoing struct {
	ID, Thread string
	Sealed     []byte
}

// Outbox lists the replies waiting to be pushed in the order they were
// written (the bucket is keyed by random id, so it is sorted here).
func (s *Store) Outbox() ([]Outgoing, error) {
	var out []Outgoing
	var order []uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		ib, sb := tx.Bucket(bItems), tx.Bucket(bSealed)
		return tx.Bucket(bOutbox).ForEach(func(k, v []byte) error {
			var m itemMeta
			if err := getJSON(ib, k, &m); err != nil {
				return err
			}
			out = append(out, Outgoing{ID: m.ID, Thread: m.Thread, Sealed: bytes.Clone(sb.Get(be(m.Order)))})
			order = append(order, m.Order)
			return nil
		})
	})
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return order[idx[a]] < order[idx[b]] })
	sorted := make([]Outgoing, len(out))
	for i, j := range idx {
		sorted[i] = out[j]
	}
	return sorted, err
}

// MarkSent records that the server holds reply id (seq is its queue
// position), and takes it out of the outbox. failed, if set, says why the
// server will never take it.
func (s *Store) MarkSent(id string, seq uint64, failed string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		ib := tx.Bucket(bItems)
		var m itemMeta
		if err := getJSON(ib, []byte(id), &m); err != nil {
			return err
		}
		switch {
		case failed != "" && m.Sent:
			// The server already holds it (its copy came back, or an
			// earlier push was confirmed): it was delivered.
		case failed != "":
			m.Failed = failed
		default:
			m.Sent, m.Failed = true, ""
			if seq != 0 {
				m.Seq = seq
			}
		}
		if err := putJSON(ib, []byte(id), m); err != nil {
			return err
		}
		if err := tx.Bucket(bOutbox).Delete([]byte(id)); err != nil {
			return err
		}
		return s.refreshDigest(tx, m.Thread, nil)
	})
}

// ToAck lists the ids of stored items not yet acknowledged to the server.
func (s *Store) ToAck() ([]string, error) {
	var ids []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bToAck).ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	})
	return ids, err
}

// Acked removes ids from the list of items to acknowledge.
func (s *Store) Acked(ids []string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bToAck)
		for _, id := range ids {
			if err := b.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// QueueReply stores a reply written here and queues it for the next sync,
// in one transaction.
func (s *Store) QueueReply(thread, id string, sealed []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		var c caseRec
		if err := getJSON(tx.Bucket(bThreads), []byte(thread), &c); err != nil {
			return err
		}
		if tx.Bucket(bItems).Get([]byte(id)) != nil {
			return errors.New("reply id already used")
		}
		m := itemMeta{ID: id, Thread: thread, Route: c.Route, Kind: vault.KindReply,
			Day: s.today(), Mine: true}
		if err := putItem(tx, m, sealed); err != nil {
			return err
		}
		if err := tx.Bucket(bOutbox).Put([]byte(id), []byte(thread)); err != nil {
			return err
		}
		return s.refreshDigest(tx, thread, nil)
	})
}

// Entry is one line of a case's chronology written on this machine. Entries
// are only ever added: a correction is a new entry that names the old one.
type Entry struct {
	N        uint64 `json:"n"`
	Day      string `json:"day"`
	Who      string `json:"who"`
	What     string `json:"what"` // "triage", "note", "correction", "reply", "export"
	Text     string `json:"text"`
	Corrects uint64 `json:"corrects,omitempty"`
	// After is the local order of the newest item when the entry was made,
	// which places it among the case's messages.
	After uint64 `json:"after"`
}

func (s *Store) appendEntry(tx *bolt.Tx, thread string, e Entry) (uint64, error) {
	cb := tx.Bucket(bChrono)
	// Entries are numbered per case: one more than the case's last.
	n := uint64(1)
	c := cb.Cursor()
	k, _ := c.Seek(threadKey(thread, ^uint64(0)))
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	if len(k) == len(thread)+8 && string(k[:len(thread)]) == thread {
		n = binary.BigEndian.Uint64(k[len(thread):]) + 1
	}
	e.N, e.Day, e.Who = n, s.today(), s.m.Name
	e.After = tx.Bucket(bItems).Sequence()
	key := threadKey(thread, n)
	sealed, err := s.key.seal(bChrono, key, e)
	if err != nil {
		return 0, err
	}
	return n, cb.Put(key, sealed)
}

// AddEntry appends a chronology entry to thread's case.
func (s *Store) AddEntry(thread string, e Entry) (uint64, error) {
	var n uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bThreads).Get([]byte(thread)) == nil {
			return ErrNoCase
		}
		if e.Corrects != 0 {
			if tx.Bucket(bChrono).Get(threadKey(thread, e.Corrects)) == nil {
				return fmt.Errorf("entry %d is not in this case's chronology", e.Corrects)
			}
		}
		var err error
		n, err = s.appendEntry(tx, thread, e)
		return err
	})
	return n, err
}

// SetTriage stores the case's new triage state, its chronology entries and
// its new summary in one transaction.
func (s *Store) SetTriage(thread string, t Triage, changes []string) error {
	sealed, err := s.key.seal(bTriage, []byte(thread), t)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bThreads).Get([]byte(thread)) == nil {
			return ErrNoCase
		}
		if err := tx.Bucket(bTriage).Put([]byte(thread), sealed); err != nil {
			return err
		}
		for _, c := range changes {
			if _, err := s.appendEntry(tx, thread, Entry{What: "triage", Text: c}); err != nil {
				return err
			}
		}
		return s.refreshDigest(tx, thread, nil)
	})
}

// rawCase is a case as stored: clear metadata and sealed records.
type rawCase struct {
	caseRec
	Items  []itemMeta
	Sealed map[string][]byte // item id -> sealed, only for items loaded
	Aside  map[string]string
	Triage []byte
	Chrono []sealedRec
}

// sealedRec is a local record with the key it was sealed under.
type sealedRec struct{ key, sealed []byte }

// loadCase reads one case; full also loads every item and the chronology.
func loadCase(tx *bolt.Tx, thread []byte, full bool) (*rawCase, error) {
	rc := &rawCase{Sealed: map[string][]byte{}, Aside: map[string]string{}}
	if err := getJSON(tx.Bucket(bThreads), thread, &rc.caseRec); err != nil {
		return nil, err
	}
	ib, sb, ab := tx.Bucket(bItems), tx.Bucket(bSealed), tx.Bucket(bAside)
	c := tx.Bucket(bThreadItems).Cursor()
	for k, v := c.Seek(thread); k != nil && bytes.HasPrefix(k, thread) && len(k) == len(thread)+8; k, v = c.Next() {
		var m itemMeta
		if err := getJSON(ib, v, &m); err != nil {
			return nil, err
		}
		rc.Items = append(rc.Items, m)
		if r := ab.Get(v); r != nil {
			rc.Aside[m.ID] = string(r)
		}
		if full {
			rc.Sealed[m.ID] = bytes.Clone(sb.Get(be(m.Order)))
		}
	}
	rc.Triage = bytes.Clone(tx.Bucket(bTriage).Get(thread))
	if full {
		cc := tx.Bucket(bChrono).Cursor()
		for k, v := cc.Seek(thread); k != nil && bytes.HasPrefix(k, thread) && len(k) == len(thread)+8; k, v = cc.Next() {
			rc.Chrono = append(rc.Chrono, sealedRec{bytes.Clone(k), bytes.Clone(v)})
		}
	}
	return rc, nil
}

// caseThread finds the thread of a case number.
func (s *Store) caseThread(n uint64) (string, error) {
	var thread string
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bCaseNums).Get(be(n))
		if v == nil {
			return ErrNoCase
		}
		thread = string(v)
		return nil
	})
	return thread, err
}

func (s *Store) loadCaseNumber(n uint64, full bool) (*rawCase, error) {
	var rc *rawCase
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bCaseNums).Get(be(n))
		if v == nil {
			return ErrNoCase
		}
		var err error
		rc, err = loadCase(tx, v, full)
		return err
	})
	return rc, err
}

// SealedItem is one of a case's items exactly as it arrived: age
// ciphertext that the standard age tool opens with the member's key.
type SealedItem struct {
	Kind   vault.Kind
	Day    string
	Sealed []byte
}

// SealedItems returns a case's items exactly as received, in arrival order.
func (s *Store) SealedItems(number uint64) ([]SealedItem, error) {
	rc, err := s.loadCaseNumber(number, true)
	if err != nil {
		return nil, err
	}
	out := make([]SealedItem, 0, len(rc.Items))
	for _, m := range rc.Items {
		out = append(out, SealedItem{Kind: m.Kind, Day: m.Day, Sealed: rc.Sealed[m.ID]})
	}
	return out, nil
}

// caseOfThread returns the case number of thread, formatted.
func (s *Store) caseOfThread(thread string) (string, error) {
	var c caseRec
	err := s.db.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bThreads), []byte(thread), &c)
	})
	return CaseNumber(c.Number), err
}

// Routes returns the routes of every case on this computer, sorted.
func (s *Store) Routes() ([]string, error) {
	return routesOf(s.db)
}

func routesOf(db *bolt.DB) ([]string, error) {
	seen := map[string]bool{}
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bThreads)
		if b == nil {
			return corruptStore(db.Path())
		}
		return b.ForEach(func(k, v []byte) error {
			var c caseRec
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("%w: an unreadable record", ErrStoreCorrupt)
			}
			seen[c.Route] = true
			return nil
		})
	})
	routes := make([]string, 0, len(seen))
	for r := range seen {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	return routes, err
}

// StoreRoutes returns the routes of the cases in dir's store without
// unlocking it (no identity is needed: routes are kept in the clear). A
// missing store has no routes.
func StoreRoutes(dir string) (routes []string, err error) {
	path := StorePath(dir)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	defer func() {
		if r := recover(); r != nil {
			routes, err = nil, corruptStore(path)
		}
	}()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, ErrStoreLocked
	case err != nil:
		return nil, corruptStore(path)
	}
	defer db.Close()
	return routesOf(db)
}
