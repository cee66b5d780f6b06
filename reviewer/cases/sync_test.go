package cases

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// fakeStaff is a staff channel that serves a fixed queue, leaving out what
// the member has acknowledged (as the server does), and records each
// acknowledgement request, checking that every id it is given is already
// committed to st. It does not check signatures (the intake's tests do).
type fakeStaff struct {
	t      *testing.T
	st     *Store
	mu     sync.Mutex
	queue  []staff.Item
	acks   [][]string
	acked  map[string]bool
	gets   int
	pushed []string       // reply ids, in the order pushed
	refuse map[string]int // thread -> status its replies get
	broken bool           // items requests get no answer
	// undeliverable is what each items response says the server cannot
	// send (a damaged queue).
	undeliverable int
}

func newFakeStaff(t *testing.T, st *Store, queue []staff.Item) (*fakeStaff, *Client) {
	fs := &fakeStaff{t: t, st: st, queue: queue, acked: map[string]bool{}, refuse: map[string]int{}}
	srv := httptest.NewServer(fs)
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL, "", st.m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return fs, c
}

func (fs *fakeStaff) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	switch r.URL.Path {
	case staff.ItemsPath:
		fs.gets++
		if fs.broken {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		q := r.URL.Query()
		if q.Has("after") || q.Has("seq") {
			fs.t.Errorf("the reviewer sent a queue position: %s", r.URL.RawQuery)
		}
		// The cursor is this fake's own: the index after the last item
		// served. A real server's is sealed.
		from, _ := strconv.Atoi(q.Get("cursor"))
		limit, _ := strconv.Atoi(q.Get("limit"))
		resp := staff.ItemsResponse{Items: []staff.Item{}, Undeliverable: fs.undeliverable}
		for i := from; i < len(fs.queue) && len(resp.Items) < limit; i++ {
			if !fs.acked[fs.queue[i].ID] {
				resp.Items = append(resp.Items, fs.queue[i])
				resp.Next = strconv.Itoa(i + 1)
			}
		}
		resp.More = len(resp.Items) > 0
		json.NewEncoder(w).Encode(resp)
	case staff.AcksPath:
		var req staff.AckRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			http.Error(w, "bad ack", http.StatusBadRequest)
			return
		}
		fs.st.db.View(func(tx *bolt.Tx) error {
			for _, id := range req.IDs {
				if tx.Bucket(bItems).Get([]byte(id)) == nil && tx.Bucket(bRejected).Get([]byte(id)) == nil {
					fs.t.Errorf("item %s acknowledged before it was committed", id)
				}
				fs.acked[id] = true
			}
			return nil
		})
		fs.acks = append(fs.acks, req.IDs)
		json.NewEncoder(w).Encode(staff.AckResponse{Acked: len(req.IDs)})
	case staff.RepliesPath:
		var req staff.ReplyRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			http.Error(w, "bad reply", http.StatusBadRequest)
			return
		}
		if code := fs.refuse[req.Thread]; code != 0 {
			w.WriteHeader(code)
			json.NewEncoder(w).Encode(staff.ErrorResponse{Error: "no such thread\x1b[2J"})
			return
		}
		fs.pushed = append(fs.pushed, req.ID)
		json.NewEncoder(w).Encode(staff.ReplyResponse{Item: staff.Item{ID: req.ID, Thread: req.Thread}})
	default:
		http.NotFound(w, r)
	}
}

// ackSizes returns the number of ids in each ack request, and every id.
func (fs *fakeStaff) ackSizes() ([]int, map[string]int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var sizes []int
	ids := map[string]int{}
	for _, a := range fs.acks {
		sizes = append(sizes, len(a))
		for _, id := range a {
			ids[id]++
		}
	}
	return sizes, ids
}

// queue makes n reports, one case each, sharing a few sealed envelopes
// (sealing is slow and the contents do not matter here).
func (f *storeFixture) queue(t *testing.T, n int) []staff.Item {
	t.Helper()
	var sealed [][]byte
	for i := 0; i < 4; i++ {
		sealed = append(sealed, f.item(t, f.thread(), vault.KindReport, "2026-03-01", "message", fmt.Sprintf("report %d", i)).Sealed)
	}
	out := make([]staff.Item, n)
	for i := range out {
		out[i] = staff.Item{ID: uuid.NewString(), Thread: f.thread(),
			Route: "students", Kind: vault.KindReport, Day: "2026-03-01", Sealed: sealed[i%len(sealed)]}
	}
	return out
}

// TestSyncPipeline pulls thirteen pages, the last one short, through the
// pipeline: every item is stored once and acknowledged once, a request a
// page.
func TestSyncPipeline(t *testing.T) {
	f := newStoreFixture(t)
	queue := f.queue(t, 123)
	fs, c := newFakeStaff(t, f.st, queue)
	c.PageSize = 10
	res, err := Sync(context.Background(), f.st, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Received != 123 || len(res.NewCases) != 123 || res.Acked != 123 || res.KindCount["report"] != 123 {
		t.Fatalf("sync: received %d, cases %d, acked %d, kinds %v", res.Received, len(res.NewCases), res.Acked, res.KindCount)
	}
	sizes, ids := fs.ackSizes()
	if len(sizes) != 13 || len(ids) != 123 {
		t.Errorf("%d ack requests for %d ids, want one per page (13) for 123", len(sizes), len(ids))
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("%s acknowledged %d times", id, n)
		}
	}
	if left, _ := f.st.toAck(); len(left) != 0 {
		t.Errorf("%d items left to acknowledge", len(left))
	}
	cs, err := f.st.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 123 || !strings.HasPrefix(cs[0].Preview, "report ") {
		t.Errorf("%d cases listed, first %+v", len(cs), cs[0])
	}
	// Nothing new: one request finds the queue empty.
	fs.gets = 0
	res, err = Sync(context.Background(), f.st, c)
	if err != nil || res.Received != 0 || fs.gets != 1 {
		t.Errorf("second sync: %+v, %v, %d requests", res, err, fs.gets)
	}
}

// TestSyncAckBatches shows items left unacknowledged by an earlier sync are
// acknowledged staff.MaxAcks at a time.
// A server whose queue is damaged says how many items it cannot send; the
// sync says so, whether or not there was anything else to fetch.
func TestSyncUndeliverable(t *testing.T) {
	for _, n := range []int{0, 3} {
		f := newStoreFixture(t)
		fs, c := newFakeStaff(t, f.st, f.queue(t, n))
		fs.undeliverable = 2
		res, err := Sync(context.Background(), f.st, c)
		if err != nil || res.Undeliverable != 2 || res.Received != n {
			t.Fatalf("%d items: %+v, %v", n, res, err)
		}
	}
}

func TestSyncAckBatches(t *testing.T) {
	f := newStoreFixture(t)
	queue := f.queue(t, 2*staff.MaxAcks+1)
	if _, err := f.st.storeItems(queue); err != nil {
		t.Fatal(err)
	}
	fs, c := newFakeStaff(t, f.st, nil)
	res, err := Sync(context.Background(), f.st, c)
	if err != nil {
		t.Fatal(err)
	}
	sizes, ids := fs.ackSizes()
	if !reflect.DeepEqual(sizes, []int{staff.MaxAcks, staff.MaxAcks, 1}) || len(ids) != len(queue) || res.Acked != len(queue) {
		t.Errorf("ack requests of %v ids (%d distinct), acked %d", sizes, len(ids), res.Acked)
	}
}

// TestSyncSetsAsideBadItem shows an item whose labels the store refuses
// does not block the queue: it is kept as it arrived, reported, counted and
// acknowledged, and everything after it is stored.
func TestSyncSetsAsideBadItem(t *testing.T) {
	f := newStoreFixture(t)
	queue := f.queue(t, 50)
	queue[25].Day = "yesterday"
	queue[30].Route = "Students\x1b[2J"
	queue[35].Kind = "note"
	fs, c := newFakeStaff(t, f.st, queue)
	c.PageSize = 10
	res, err := Sync(context.Background(), f.st, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Received != 47 || len(res.SetAside) != 3 || res.Acked != 50 {
		t.Fatalf("sync: received %d, set aside %+v, acked %d", res.Received, res.SetAside, res.Acked)
	}
	for i, want := range []string{"invalid day", "invalid route", "invalid kind"} {
		if a := res.SetAside[i]; a.Case != "" || !strings.Contains(a.Reason, want) {
			t.Errorf("set aside %d: %+v, want %q", i, a, want)
		}
	}
	if cs, _ := f.st.List(); len(cs) != 47 {
		t.Errorf("%d cases, want 47", len(cs))
	}
	_, ids := fs.ackSizes()
	if len(ids) != 50 {
		t.Errorf("%d distinct ids acknowledged, want 50", len(ids))
	}
	// Kept byte for byte.
	var kept rejectedItem
	f.st.db.View(func(tx *bolt.Tx) error {
		return json.Unmarshal(tx.Bucket(bRejected).Get([]byte(queue[30].ID)), &kept)
	})
	if !reflect.DeepEqual(kept.Item, queue[30]) {
		t.Errorf("the set-aside item was not kept as it arrived: %+v", kept.Item)
	}
	if r, _ := f.st.rejectedItems(); len(r) != 3 {
		t.Errorf("%d rejected items listed", len(r))
	}
	// Served again (the server has not taken the acks yet): nothing doubles.
	fs.mu.Lock()
	fs.acked = map[string]bool{}
	fs.mu.Unlock()
	res, err = Sync(context.Background(), f.st, c)
	if err != nil || res.Received != 0 || len(res.SetAside) != 0 {
		t.Fatalf("repeat sync: %+v, %v", res, err)
	}
	if r, _ := f.st.rejectedItems(); len(r) != 3 {
		t.Errorf("%d rejected items after a repeat", len(r))
	}
	// An id that is not an id cannot be acknowledged; it is kept once.
	bad := f.queue(t, 1)[0]
	bad.ID = "../../etc"
	fs.mu.Lock()
	fs.queue = append(fs.queue, bad)
	fs.mu.Unlock()
	for i := 0; i < 2; i++ {
		if _, err := Sync(context.Background(), f.st, c); err != nil {
			t.Fatal(err)
		}
	}
	if r, _ := f.st.rejectedItems(); len(r) != 4 {
		t.Errorf("%d rejected items, want 4", len(r))
	}
}

// TestSyncFromTheStart shows every sync asks from the start: a server
// restored from a backup holds items new to this computer before ones it
// has, and they still arrive; items already here are acknowledged again,
// not doubled.
func TestSyncFromTheStart(t *testing.T) {
	f := newStoreFixture(t)
	queue := f.queue(t, 5)
	fs, c := newFakeStaff(t, f.st, queue)
	if res, err := Sync(context.Background(), f.st, c); err != nil || res.Received != 5 {
		t.Fatalf("first sync: %+v, %v", res, err)
	}
	restored := f.queue(t, 3)
	// The restored server has forgotten two of the acknowledgements.
	old := queue[3:]
	fs.mu.Lock()
	fs.queue = append(restored, old...)
	fs.acked = map[string]bool{}
	fs.mu.Unlock()
	res, err := Sync(context.Background(), f.st, c)
	if err != nil || res.Received != 3 || len(res.NewCases) != 3 {
		t.Fatalf("sync after a restore: %+v, %v", res, err)
	}
	if cs, _ := f.st.List(); len(cs) != 8 {
		t.Errorf("%d cases, want 8", len(cs))
	}
	_, ids := fs.ackSizes()
	if ids[old[0].ID] != 2 || ids[old[1].ID] != 2 {
		t.Errorf("items already here were not acknowledged again: %d, %d", ids[old[0].ID], ids[old[1].ID])
	}
}

// TestSyncPushesWhenPullFails shows a broken pull does not hold back the
// replies or the acknowledgements, and a reply refused with a 4xx is marked
// not delivered while the others go.
func TestSyncPushesWhenPullFails(t *testing.T) {
	f := newStoreFixture(t)
	th1, th2 := f.thread(), f.thread()
	if _, err := f.st.storeItems([]staff.Item{
		f.item(t, th1, vault.KindReport, "2026-03-01", "message", "one"),
		f.item(t, th2, vault.KindReport, "2026-03-01", "message", "two"),
	}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, n := range []uint64{1, 2, 1, 2, 1} {
		id, err := f.st.Reply(n, fmt.Sprintf("reply %d", i), f.team)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			ids = append(ids, id)
		}
	}
	fs, c := newFakeStaff(t, f.st, nil)
	fs.broken = true
	fs.refuse[th2] = http.StatusNotFound
	res, err := Sync(context.Background(), f.st, c)
	if err == nil || !strings.Contains(err.Error(), "server at") {
		t.Fatalf("sync over a broken pull: %v", err)
	}
	if res.Pushed != 3 || res.Failed != 2 || res.Acked != 2 || len(res.NotDelivered) != 2 || res.NotDelivered[0].Case != "HK-0000-0002" {
		t.Errorf("sync: %+v", res)
	}
	// In the order they were written.
	if !reflect.DeepEqual(fs.pushed, ids) {
		t.Errorf("pushed %v, want %v", fs.pushed, ids)
	}
	cv, _ := f.st.Show(2)
	for _, m := range cv.Messages[1:] {
		if !strings.HasPrefix(m.State, "not delivered") {
			t.Errorf("a refused reply shows %q", m.State)
		}
	}
	if out, _ := f.st.outbox(); len(out) != 0 {
		t.Errorf("%d replies still queued", len(out))
	}
}
