package cases

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/staff"
)

// pageSeeds are items pages as the server writes them, and near misses
// that the direct path must leave to encoding/json.
var pageSeeds = []string{
	`{"items":[{"id":"0b5b2b5e-9d49-4a8e-9a70-5f0e4b1f6c11","thread":"t1","route":"students","kind":"report","day":"2026-12-01","sealed":"YWdlLWVuY3J5cHRpb24="}],"more":true,"next":"abc","undeliverable":0}`,
	`{"items":[],"more":false,"next":"","undeliverable":3}` + "\n",
	` { "items" : [ { "id" : "a" , "sealed" : "QUJD" } , {"id":"b","sealed":""} ] , "more" : false } `,
	`{"items":null,"more":false}`,
	`{"items":[{"sealed":null}]}`,
	`{"items":[{"id":"a\/b","sealed":"QUJD"}]}`,
	`{"items":[{"ID":"a","sealed":"QUJD"}]}`,
	`{"items":[{"id":"a","id":"b"}]}`,
	`{"items":[{"id":"a"}],"items":[{"thread":"b"}]}`,
	`{"items":[{"id":"a","sealed":"QUJD\nQUJD"}]}`,
	`{"items":[{"id":"a","sealed":"QUJDQUJD` + "\n\n\n\n" + `"}]}`,
	`{"items":[{"id":"a","sealed":"not base64!"}]}`,
	`{"items":[{"id":"a","sealed":"QQ=="}]}`,
	`{"items":[{"id":"a","sealed":"Q==="}]}`,
	`{"items":[{"id":"a","sealed":"===="}]}`,
	`{"items":[{"id":"a` + "\t" + `b"}]}`,
	`{"items":[{"id":"\xff"}]}`,
	`{"items":[{"day":"2026-12-01","unknown":1}]}`,
	`{"undeliverable":-0}`,
	`{"undeliverable":012}`,
	`{"undeliverable":1.5}`,
	`{"undeliverable":1e3}`,
	`{"undeliverable":9999999999}`,
	`{"more":truex}`,
	`{"more":true}x`,
	`{"more":true}{}`,
	`{"items":[{"id":"a"},]}`,
	`{"items":[{"id":"a"}`,
	`{"more":true,}`,
	`{}`,
	``,
	`[]`,
}

// TestItemsPageDecode: every page decodes as encoding/json decodes it, and
// pages as the server writes them take the direct path.
func TestItemsPageDecode(t *testing.T) {
	for _, in := range pageSeeds {
		checkPageDecode(t, []byte(in))
	}
	// What the server sends: staff.ItemsResponse as encoding/json writes it.
	resp := staff.ItemsResponse{More: true, Next: "c3VyZQ", Undeliverable: 2}
	for i := range 3 {
		resp.Items = append(resp.Items, staff.Item{ID: strings.Repeat("a", i+1), Thread: "thread", Route: "students",
			Kind: "report", Day: "2026-12-01", Sealed: []byte(strings.Repeat("age\x00\xff", i))})
	}
	data, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := scanItemsPage(data); !ok {
		t.Errorf("the direct path gave up on a page as the server writes it: %s", data)
	}
	checkPageDecode(t, data)
	var page itemsPage
	if err := page.decode(data); err != nil || len(page.Items) != 3 || string(page.Items[2].Sealed) != string(resp.Items[2].Sealed) || !page.More || page.Next != resp.Next || page.Undeliverable != 2 {
		t.Errorf("decoded %+v, %v", page, err)
	}
}

// FuzzItemsPage: whatever the server sends, the direct path either gives
// up or decodes exactly what encoding/json does.
func FuzzItemsPage(f *testing.F) {
	for _, s := range pageSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkPageDecode(t, data)
	})
}

func checkPageDecode(t *testing.T, data []byte) {
	t.Helper()
	var want itemsPage
	wantErr := json.Unmarshal(data, &want)
	fast, ok := scanItemsPage(data)
	if ok && (wantErr != nil || !reflect.DeepEqual(fast, want)) {
		t.Errorf("%q: the direct path decoded %+v; encoding/json %+v, %v", data, fast, want, wantErr)
	}
	var got itemsPage
	err := got.decode(data)
	if (err != nil) != (wantErr != nil) || (err == nil && !reflect.DeepEqual(got, want)) {
		t.Errorf("%q: decoded %+v, %v; encoding/json %+v, %v", data, got, err, want, wantErr)
	}
}
