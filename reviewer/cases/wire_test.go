package cases

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/staff"
)

// TestWireItemMirror keeps the client's decoding type in step with the
// wire type it stands for.
func TestWireItemMirror(t *testing.T) {
	a, b := reflect.TypeFor[wireItem](), reflect.TypeFor[staff.Item]()
	if a.NumField() != b.NumField() {
		t.Fatalf("wireItem has %d fields, staff.Item %d", a.NumField(), b.NumField())
	}
	for i := 0; i < a.NumField(); i++ {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Tag != fb.Tag || !fa.Type.ConvertibleTo(fb.Type) {
			t.Errorf("field %d: %s %s %q, want %s %s %q", i, fa.Name, fa.Type, fa.Tag, fb.Name, fb.Type, fb.Tag)
		}
	}
	// Sealed bytes decode as encoding/json would, escapes and null included.
	want := []byte("\xff\xff\xffage-encryption.org/v1\n")
	enc, _ := json.Marshal(staff.Item{Sealed: want})
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
