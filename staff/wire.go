package staff

import "github.com/hearken-project/hearken/vault"

// Wire types of the staff channel, shared by the intake server and the
// reviewer so neither imports the other. []byte fields travel as standard
// base64 (encoding/json's default).

// Staff channel paths.
const (
	ItemsPath   = "/staff/v1/items"
	RepliesPath = "/staff/v1/replies"
	AcksPath    = "/staff/v1/acks"
	ResendPath  = "/staff/v1/resend"
)

// Staff channel limits.
const (
	// MaxItems is the most items one GET /staff/v1/items returns.
	MaxItems = 500
	// MaxBatchBytes bounds the sealed bytes of one items response; at
	// least one item is always returned. The store makes the pages.
	MaxBatchBytes = vault.MaxPageBytes
	// MaxAcks is the most ids one POST /staff/v1/acks may carry.
	MaxAcks = 500
	// MaxCursor bounds the cursor of an items request.
	MaxCursor = 512
)

// Item is one sealed item of the staff queue. It carries no queue position:
// nothing in it, or in any answer, counts items, so a member learns nothing
// of how many items other routes, or their own, have received.
type Item struct {
	ID     string     `json:"id"`
	Thread string     `json:"thread"`
	Route  string     `json:"route"`
	Kind   vault.Kind `json:"kind"`
	Day    string     `json:"day"`
	Sealed []byte     `json:"sealed"`
}

// ItemsResponse answers GET /staff/v1/items?limit=N&cursor=C: the items
// waiting for the member on their routes that they have not acknowledged,
// route by route, each route's in the order they arrived. The first page
// has no cursor; each page's Next is the cursor of the one after it. Next
// is opaque (sealed by the server for this member; it shows no position),
// good only within one sync: a client keeps none, and starts from the
// beginning every time. More is set when the page was cut short by a limit
// and more items may follow. Undeliverable counts items on the member's
// routes that the server holds but cannot send until its operator repairs
// its queue (intake repair).
type ItemsResponse struct {
	Items         []Item `json:"items"`
	More          bool   `json:"more"`
	Next          string `json:"next,omitempty"`
	Undeliverable int    `json:"undeliverable,omitempty"`
}

// ReplyRequest is the body of POST /staff/v1/replies: a team item, a reply
// to the reporter or a team event, which the server cannot tell apart. ID
// is a uuid v4 chosen by the reviewer, so a retried push is a no-op.
type ReplyRequest struct {
	Thread string `json:"thread"`
	ID     string `json:"id"`
	Sealed []byte `json:"sealed"`
}

// ReplyResponse answers POST /staff/v1/replies: the reply as the server
// holds it, without its content.
type ReplyResponse struct {
	Item Item `json:"item"`
}

// ResendResponse answers POST /staff/v1/resend, a signed request with an
// empty body: the server forgets the member's acknowledgements of every
// item it still holds on their routes, so the next sync fetches them all
// again. Items counts them.
type ResendResponse struct {
	Items int `json:"items"`
}

// AckRequest is the body of POST /staff/v1/acks: the items the member has
// stored. The server records them all in one commit.
type AckRequest struct {
	IDs []string `json:"ids"`
}

// AckResponse answers POST /staff/v1/acks. Unknown lists ids the server no
// longer holds, or that are not on the member's routes; the reviewer treats
// them as done.
type AckResponse struct {
	Acked   int      `json:"acked"`
	Unknown []string `json:"unknown,omitempty"`
}

// ErrorResponse is the body of a staff channel error other than 401.
type ErrorResponse struct {
	Error string `json:"error"`
}

// ItemOf converts a stored item to its wire form.
func ItemOf(it vault.Item) Item {
	return Item(it)
}
