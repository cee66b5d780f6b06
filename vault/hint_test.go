package vault

import (
	"errors"
	"sync"
	"testing"

	"filippo.io/age"
)

// countingIdentity counts the stanzas it is asked to open.
type countingIdentity struct {
	inner age.Identity
	mu    sync.Mutex
	tried int
}

func (c *countingIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	c.mu.Lock()
	c.tried += len(stanzas)
	c.mu.Unlock()
	return c.inner.Unwrap(stanzas)
}

// TestHintedIdentity opens what the plain identity opens, refuses what it
// refuses, and after the first envelope of each header size tries one
// stanza, whatever the member's place in the team.
func TestHintedIdentity(t *testing.T) {
	ms, team := testTeam(t, 4)
	reporter, _ := age.GenerateHybridIdentity()
	seal := func(rs ...age.Recipient) []byte {
		sealed, err := Seal(sampleReport(), rs...)
		if err != nil {
			t.Fatal(err)
		}
		return sealed
	}
	report := func() []byte { return seal(team.Recipients()...) }
	reply := func() []byte { return seal(append([]age.Recipient{reporter.Recipient()}, team.Recipients()...)...) }

	counted := &countingIdentity{inner: ms[3].Identity()}
	h := &HintedIdentity{id: counted}
	for i, c := range []struct {
		sealed []byte
		want   int
	}{
		{report(), 4}, // member 4 of 4: the first report is opened in order
		{report(), 1},
		{reply(), 5}, // a header of another size has a hint of its own
		{report(), 1},
		{reply(), 1},
	} {
		counted.tried = 0
		if _, err := Open(c.sealed, h); err != nil {
			t.Fatal(err)
		}
		if counted.tried != c.want {
			t.Errorf("envelope %d: %d stanzas tried, want %d", i, counted.tried, c.want)
		}
	}
	// Sealed without this member: refused as age refuses it, every stanza
	// tried.
	counted.tried = 0
	if _, err := Open(seal(ms[0].Recipient(), ms[1].Recipient(), ms[2].Recipient(), reporter.Recipient()), h); !errors.Is(err, ErrWrongKey) {
		t.Errorf("not sealed to the member: %v", err)
	}
	if counted.tried != 4 {
		t.Errorf("a foreign envelope tried %d stanzas, want 4", counted.tried)
	}
	// Many at once, as sync opens them.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := Open(report(), NewHintedIdentity(ms[2].Identity())); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}
