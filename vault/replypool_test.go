package vault

import (
	"testing"
)

// Reply identities made ahead are each handed out once, and the store
// closes cleanly with the maker running, twice over.
func TestReplyPool(t *testing.T) {
	p := newReplyPool()
	seen := map[string]bool{}
	for range 2 * replyPoolSize {
		id, err := p.get()
		if err != nil {
			t.Fatal(err)
		}
		if seen[id.String()] {
			t.Fatal("a reply identity was handed out twice")
		}
		seen[id.String()] = true
	}
	p.close()
	p.close()
	newReplyPool().close() // never started
}
