package vault

import (
	"errors"
	"sync/atomic"

	"filippo.io/age"
)

// Opening an envelope costs one hybrid decapsulation (ML-KEM-768 and
// X25519) per stanza tried, and age tries an identity against the stanzas
// in order. Nothing in a stanza says whom it is for (age's hybrid
// recipients are anonymous by design, and we add nothing that would name
// them), so a member third in the team file pays for three.
//
// But a team seals everything in the same order: a report to the route's
// team in team-file order, a team item to the reporter (or a stand-in) and
// then the team. So the stanza that opened the last envelope with the same
// number of stanzas is almost always the one that opens the next: try it
// first, and opening costs one decapsulation whatever the member's place.

// maxHinted is the largest stanza count remembered; larger headers (a team
// of over 250) are opened in order.
const maxHinted = 256

// HintedIdentity is an age identity that tries first the stanza position
// that last opened an envelope with as many stanzas. It is safe for
// concurrent use, and it opens what id opens, except that a malformed
// stanza before the hinted one goes unnoticed when the hinted one opens
// (age would refuse the file; the header's MAC still covers every stanza).
type HintedIdentity struct {
	id    age.Identity            // a *age.HybridIdentity; tests count its attempts
	hints [maxHinted]atomic.Int32 // by stanza count: 1 + the position that last opened
}

// NewHintedIdentity wraps id.
func NewHintedIdentity(id *age.HybridIdentity) *HintedIdentity {
	return &HintedIdentity{id: id}
}

// Unwrap implements age.Identity.
func (h *HintedIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	n := len(stanzas)
	if n >= maxHinted {
		return h.id.Unwrap(stanzas)
	}
	hint := int(h.hints[n].Load()) - 1
	if hint >= 0 && hint < n {
		key, err := h.id.Unwrap(stanzas[hint : hint+1])
		if err == nil {
			return key, nil
		}
		if !errors.Is(err, age.ErrIncorrectIdentity) {
			hint = -1 // try it again in its place, as age would
		}
	}
	for i, s := range stanzas {
		if i == hint {
			continue
		}
		key, err := h.id.Unwrap([]*age.Stanza{s})
		if errors.Is(err, age.ErrIncorrectIdentity) {
			continue
		}
		if err != nil {
			return nil, err
		}
		h.hints[n].Store(int32(i + 1))
		return key, nil
	}
	return nil, age.ErrIncorrectIdentity
}
