package cases

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// The case store's schema: one bbolt file in the store folder. Items are kept
// exactly as the server sent them (age-sealed, to the team), and so are the
// replies written here. Team events, pinned reply keys, the per-case
// summaries list reads and the triage and chronology written before case
// records were shared are sealed under the store's data key (localkey.go).
// Case numbers, thread ids, routes, kinds and calendar days are kept in the
// clear: the server knows them too (except which of its "reply" items are
// team events, which only this store says).

const (
	storeFile   = "cases.db"
	storeSchema = 4
	// schemaShared is the first schema whose case numbers are the team's
	// and whose triage and notes are team events; stores before it kept
	// their own (migrateShared).
	schemaShared = 4
)

var (
	bMeta        = []byte("meta")
	bItems       = []byte("items")       // item id -> itemMeta JSON
	bSealed      = []byte("sealed")      // order (BE) -> sealed bytes, as received
	bThreads     = []byte("threads")     // thread id -> caseRec JSON
	bCaseNums    = []byte("casenums")    // case number (BE) -> thread id
	bThreadItems = []byte("threaditems") // thread id + order (BE) -> item id
	bChrono      = []byte("chrono")      // thread id + seq (BE) -> sealed entry, written before sharing
	bTriage      = []byte("triage")      // thread id -> sealed Triage, written before sharing
	bOutbox      = []byte("outbox")      // item id -> thread id, replies to push
	bToAck       = []byte("toack")       // item id -> "", stored but not yet acknowledged
	bAside       = []byte("aside")       // item id -> reason it could not be opened
	bSummaries   = []byte("summaries")   // thread id -> sealed caseDigest
	// Items whose labels could not be ours, so they belong to no case:
	// item id (or "sha256:" and the hash of the item, for an unusable id)
	// -> rejectedItem JSON, the item kept exactly as it arrived.
	bRejected = []byte("rejected")
	// Team events of each case, verified, as signed by their authors:
	// thread id + event id -> sealed eventRec.
	bEvents = []byte("events")
	// Events written here that wait to be sent: event id -> thread id.
	bEventOut = []byte("eventout")
	// Each case's pinned reply key: thread id -> sealed pinRec.
	bPins = []byte("pins")
	// This computer's numbers from before numbers were shared: former
	// number (BE) -> case number (BE).
	bFormer = []byte("former")
	// Team items set aside because no team file was recorded for their
	// route; sync checks them again once one is: item id -> thread id.
	bRecheck = []byte("recheck")

	// baseBuckets are required in every store of this schema; addedBuckets
	// came later and are made when an older store is opened.
	baseBuckets = [][]byte{bMeta, bItems, bSealed, bThreads, bCaseNums, bThreadItems,
		bChrono, bTriage, bOutbox, bToAck, bAside, bSummaries}
	addedBuckets = [][]byte{bRejected, bEvents, bEventOut, bPins, bFormer, bRecheck}
	allBuckets   = append(append([][]byte{}, baseBuckets...), addedBuckets...)

	kSchema  = []byte("schema")
	kOwner   = []byte("owner")
	kDataKey = []byte("datakey") // the data key, age-wrapped to the owner
	// kNextCase ("nextcase") held the next local case number before
	// numbers were shared; older stores still have it, and nothing reads
	// it.
)

// itemMeta is what the store keeps in the clear about an item.
type itemMeta struct {
	ID     string     `json:"id"`
	Thread string     `json:"thread"`
	Route  string     `json:"route"`
	Kind   vault.Kind `json:"kind"`
	Day    string     `json:"day"`
	Order  uint64     `json:"order"`          // local arrival order
	Mine   bool       `json:"mine,omitempty"` // a reply written on this machine
	Sent   bool       `json:"sent,omitempty"` // the server has it
	Failed string     `json:"failed,omitempty"`
	// Legacy marks a reply stored before replies were signed (schema 2).
	Legacy bool `json:"legacy,omitempty"`
}

// caseRec maps a thread to its case number.
type caseRec struct {
	Number uint64 `json:"number"`
	Thread string `json:"thread"`
	Route  string `json:"route"`
	First  string `json:"first"` // calendar day the first item arrived here
	// Former is the number this computer gave the case before numbers
	// were shared (schema 2), or 0.
	Former uint64 `json:"former,omitempty"`
	// Collided is the number this case would have had, had another case
	// not had it first.
	Collided string `json:"collided,omitempty"`
}

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
