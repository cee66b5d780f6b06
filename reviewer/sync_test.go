package reviewer

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
	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// fakeStaff is a staff channel that serves a fixed queue and records each
// acknowledgement request, checking that every id it is given is already
// committed to st. It does not check signatures (the intake's tests do).
type fakeStaff struct {
	t     *testing.T
	st    *Store
	mu    sync.Mutex
	queue []vault.WireItem
	acks  [][]string
	gets  int
}

func newFakeStaff(t *testing.T, st *Store, queue []vault.WireItem) (*fakeStaff, *Client) {
	fs := &fakeStaff{t: t, st: st, queue: queue}
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
	case vault.StaffItemsPath:
		fs.gets++
		after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		resp := vault.ItemsResponse{Items: []vault.WireItem{}}
		for _, it := range fs.queue {
			if it.Seq > after && len(resp.Items) < limit {
				resp.Items = append(resp.Items, it)
			}
		}
		resp.More = len(resp.Items) > 0
		json.NewEncoder(w).Encode(resp)
	case vault.StaffAcksPath:
		var req vault.AckRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			http.Error(w, "bad ack", http.StatusBadRequest)
			return
		}
		fs.st.db.View(func(tx *bolt.Tx) error {
			for _, id := range req.IDs {
				if tx.Bucket(bItems).Get([]byte(id)) == nil {
					fs.t.Errorf("item %s acknowledged before it was committed", id)
				}
			}
			return nil
		})
		fs.acks = append(fs.acks, req.IDs)
		json.NewEncoder(w).Encode(vault.AckResponse{Acked: len(req.IDs)})
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
func (f *storeFixture) queue(t *testing.T, n int) []vault.WireItem {
	t.Helper()
	var sealed [][]byte
	for i := 0; i < 4; i++ {
		sealed = append(sealed, f.item(t, uuid.NewString(), vault.KindReport, "2026-03-01", "message", fmt.Sprintf("report %d", i)).Sealed)
	}
	out := make([]vault.WireItem, n)
	for i := range out {
		out[i] = vault.WireItem{Seq: uint64(100 + i), ID: uuid.NewString(), Thread: uuid.NewString(),
			Route: "students", Kind: vault.KindReport, Day: "2026-03-01", Sealed: sealed[i%len(sealed)]}
	}
	return out
}

func TestSyncPipeline(t *testing.T) {
	f := newStoreFixture(t)
	queue := f.queue(t, 1203)
	fs, c := newFakeStaff(t, f.st, queue)
	c.PageSize = 100
	res, err := Sync(context.Background(), f.st, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Received != 1203 || len(res.NewCases) != 1203 || res.Acked != 1203 || res.KindCount["report"] != 1203 {
		t.Fatalf("sync: received %d, cases %d, acked %d, kinds %v", res.Received, len(res.NewCases), res.Acked, res.KindCount)
	}
	sizes, ids := fs.ackSizes()
	if len(sizes) != 13 || len(ids) != 1203 {
		t.Errorf("%d ack requests for %d ids, want one per page (13) for 1203", len(sizes), len(ids))
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("%s acknowledged %d times", id, n)
		}
	}
	if left, _ := f.st.ToAck(); len(left) != 0 {
		t.Errorf("%d items left to acknowledge", len(left))
	}
	if cur, _ := f.st.Cursor(); cur != queue[len(queue)-1].Seq {
		t.Errorf("cursor %d, want %d", cur, queue[len(queue)-1].Seq)
	}
	cs, err := f.st.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1203 || !strings.HasPrefix(cs[0].Preview, "report ") {
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
// acknowledged vault.StaffMaxAcks at a time.
func TestSyncAckBatches(t *testing.T) {
	f := newStoreFixture(t)
	queue := f.queue(t, 2*vault.StaffMaxAcks+1)
	if _, err := f.st.StoreItems(queue); err != nil {
		t.Fatal(err)
	}
	fs, c := newFakeStaff(t, f.st, nil)
	res, err := Sync(context.Background(), f.st, c)
	if err != nil {
		t.Fatal(err)
	}
	sizes, ids := fs.ackSizes()
	if !reflect.DeepEqual(sizes, []int{vault.StaffMaxAcks, vault.StaffMaxAcks, 1}) || len(ids) != len(queue) || res.Acked != len(queue) {
		t.Errorf("ack requests of %v ids (%d distinct), acked %d", sizes, len(ids), res.Acked)
	}
}

// TestSyncStopsAtBadPage shows a page the store refuses stops the sync:
// the pages before it are stored and acknowledged, nothing after it is,
// and the next sync resumes exactly there.
func TestSyncStopsAtBadPage(t *testing.T) {
	f := newStoreFixture(t)
	queue := f.queue(t, 50)
	good := queue[25]
	queue[25].Day = "yesterday"
	fs, c := newFakeStaff(t, f.st, queue)
	c.PageSize = 10
	if _, err := Sync(context.Background(), f.st, c); err == nil || !strings.Contains(err.Error(), "invalid day") {
		t.Fatalf("sync over a bad item: %v", err)
	}
	cs, _ := f.st.List()
	_, ids := fs.ackSizes()
	if len(cs) != 20 || len(ids) != 20 {
		t.Fatalf("after the bad page: %d cases, %d acknowledged; want the 20 before it", len(cs), len(ids))
	}
	if cur, _ := f.st.Cursor(); cur != queue[19].Seq {
		t.Errorf("cursor %d, want %d", cur, queue[19].Seq)
	}
	fs.mu.Lock()
	fs.queue[25] = good
	fs.mu.Unlock()
	res, err := Sync(context.Background(), f.st, c)
	if err != nil || res.Received != 30 {
		t.Fatalf("resumed sync: %+v, %v", res, err)
	}
	_, ids = fs.ackSizes()
	if len(ids) != 50 {
		t.Errorf("%d distinct ids acknowledged, want 50", len(ids))
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("%s acknowledged %d times", id, n)
		}
	}
}

// TestWireItemMirror keeps the client's decoding type in step with the
// wire type it stands for.
func TestWireItemMirror(t *testing.T) {
	a, b := reflect.TypeFor[wireItem](), reflect.TypeFor[vault.WireItem]()
	if a.NumField() != b.NumField() {
		t.Fatalf("wireItem has %d fields, vault.WireItem %d", a.NumField(), b.NumField())
	}
	for i := 0; i < a.NumField(); i++ {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Tag != fb.Tag || !fa.Type.ConvertibleTo(fb.Type) {
			t.Errorf("field %d: %s %s %q, want %s %s %q", i, fa.Name, fa.Type, fa.Tag, fb.Name, fb.Type, fb.Tag)
		}
	}
	// Sealed bytes decode as encoding/json would, escapes and null included.
	want := []byte("\xff\xff\xffage-encryption.org/v1\n")
	enc, _ := json.Marshal(vault.WireItem{Sealed: want})
	escaped := strings.Replace(string(enc), "/", `\/`, 1)
	if escaped == string(enc) {
		t.Fatalf("no slash to escape in %s", enc)
	}
	for _, in := range []string{string(enc), escaped} {
		var got wireItem
		if err := json.Unmarshal([]byte(in), &got); err != nil || string(got.Sealed) != string(want) {
			t.Errorf("%s decodes to %q, %v", in, got.Sealed, err)
		}
	}
	var got wireItem
	if err := json.Unmarshal([]byte(`{"sealed":null}`), &got); err != nil || got.Sealed != nil {
		t.Errorf("null decodes to %q, %v", got.Sealed, err)
	}
	if err := json.Unmarshal([]byte(`{"sealed":"not base64!"}`), &got); err == nil {
		t.Error("invalid base64 accepted")
	}
}
