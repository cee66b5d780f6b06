package cases

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// itemsPage is staff.ItemsResponse as it is decoded here: the sealed bytes
// go straight from base64 into their slice, without the copy and checks
// encoding/json makes of every string (a page is megabytes of base64).
// Client.do decodes it with its decode method (wirepage.go).
type itemsPage struct {
	Items         []wireItem `json:"items"`
	More          bool       `json:"more"`
	Next          string     `json:"next"`
	Undeliverable int        `json:"undeliverable"`
}

// wireItem mirrors staff.Item field for field (a test checks).
type wireItem struct {
	ID     string     `json:"id"`
	Thread string     `json:"thread"`
	Route  string     `json:"route"`
	Kind   vault.Kind `json:"kind"`
	Day    string     `json:"day"`
	Sealed base64JSON `json:"sealed"`
}

// base64JSON is a []byte that decodes a plain JSON string of standard
// base64 directly; anything else takes encoding/json's own path.
type base64JSON []byte

func (b *base64JSON) UnmarshalJSON(data []byte) error {
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' || bytes.IndexByte(data, '\\') >= 0 {
		var v []byte
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*b = v
		return nil
	}
	src := data[1 : len(data)-1]
	out := make([]byte, base64.StdEncoding.DecodedLen(len(src)))
	n, err := base64.StdEncoding.Decode(out, src)
	if err != nil {
		return errors.New("an item's content is not valid base64")
	}
	*b = out[:n]
	return nil
}

// items fetches up to limit items after cursor ("" for the first page).
func (c *Client) items(ctx context.Context, cursor string, limit int) (*staff.ItemsResponse, error) {
	var page itemsPage
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if _, err := c.do(ctx, http.MethodGet, staff.ItemsPath, q.Encode(), nil, &page); err != nil {
		return nil, err
	}
	resp := &staff.ItemsResponse{Items: make([]staff.Item, len(page.Items)), More: page.More, Next: page.Next, Undeliverable: page.Undeliverable}
	for i, it := range page.Items {
		resp.Items[i] = staff.Item{ID: it.ID, Thread: it.Thread, Route: it.Route,
			Kind: it.Kind, Day: it.Day, Sealed: it.Sealed}
	}
	return resp, nil
}

// Resend asks the server to send again every item it still holds on the
// member's routes (the server forgets the member's acknowledgements of
// them), for a member on a new or restored computer; the next sync fetches
// them, and stores only those it does not have. It returns how many items
// the server holds for the member.
// ErrAskedRecently means the member asked for everything again a few
// minutes ago; the server still holds it for them, and a sync fetches it.
func (c *Client) Resend(ctx context.Context) (int, error) {
	var resp staff.ResendResponse
	code, err := c.do(ctx, http.MethodPost, staff.ResendPath, "", nil, &resp)
	if code == http.StatusTooManyRequests {
		return 0, ErrAskedRecently
	}
	if err != nil {
		return 0, err
	}
	return resp.Items, nil
}

// ErrAskedRecently means the server was asked to send everything again a
// few minutes ago, and has not done so again: what it holds already waits
// for this member.
var ErrAskedRecently = errors.New("you asked the server for everything again a few minutes ago")

// reply pushes a sealed reply; the status tells a gone thread (404) apart.
func (c *Client) reply(ctx context.Context, req staff.ReplyRequest) (*staff.ReplyResponse, int, error) {
	var resp staff.ReplyResponse
	code, err := c.do(ctx, http.MethodPost, staff.RepliesPath, "", req, &resp)
	if err != nil {
		return nil, code, err
	}
	return &resp, code, nil
}

// ack acknowledges stored items, at most staff.MaxAcks ids at once.
func (c *Client) ack(ctx context.Context, ids []string) (*staff.AckResponse, error) {
	req := staff.AckRequest{IDs: ids}
	var resp staff.AckResponse
	if _, err := c.do(ctx, http.MethodPost, staff.AcksPath, "", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
