package vault

import (
	"testing"

	"filippo.io/age"
)

// Reply identities made ahead are each handed out once, and the store
// closes cleanly with the maker running, twice over.
func TestReplyPool(t *testing.T) {
	p := newReplyPool()
	seen := map[string]bool{}
	for range 2 * replyPoolSize {
		k, err := p.get()
		if err != nil {
			t.Fatal(err)
		}
		if seen[k.secret] {
			t.Fatal("a reply identity was handed out twice")
		}
		seen[k.secret] = true
		id, err := age.ParseHybridIdentity(k.secret)
		if err != nil || id.Recipient().String() != k.recipient {
			t.Fatalf("a reply key's recipient is not its identity's (%v)", err)
		}
	}
	p.close()
	p.close()
	newReplyPool().close() // never started
}
