package vault

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
)

// Team items. A team member's reply and a team event (a change to a case's
// shared record) are signed by their author with the Ed25519 key of their
// identity, inside the sealed envelope, so the server learns nothing more
// about who wrote what than the staff channel's request signature already
// tells it, while every colleague's reviewer can check the author.
//
// The signed content is one JSON object, [Signed], carried in the
// envelope's "signed" member exactly as its author's reviewer encoded it;
// the signature is over those bytes, not over a re-encoding:
//
//	Ed25519(author key, "hearken-team-item-v1\n" || signed bytes)
//
// and travels base64 in the envelope's "sig" member. A signed envelope's
// plaintext (before the space padding) is
//
//	{"kind":"reply","day":"2026-03-10","route":"students",
//	 "signed":{"thread":"…","id":"…","kind":"reply","author":"ed25519:…",
//	           "name":"Dana Lead","lamport":7,"day":"2026-03-10",
//	           "route":"students","fields":[{"name":"message","value":"…"}]},
//	 "sig":"…"}
//
// The signed object binds the thread and item id the item travels under,
// its kind (a reply cannot be replayed as an event or the other way round),
// the author's key and the case's Lamport time; [Envelope.Verify] checks
// all of them against what the item claims to be. It stays plain JSON, so
// `age -d` still shows a team item as readable text.
//
// On the server and the staff channel, a reply and an event are one kind
// (KindReply, "a team item"): only the sealed envelope says which it is.

// KindEvent is a change to a case's shared record (triage, an assignment, a
// note, "I am handling this"), signed by its author and sealed to the
// route's team. It exists only inside sealed envelopes: the server stores
// and forwards it as a team item of kind KindReply.
const KindEvent Kind = "event"

// signedContext separates team item signatures from every other use of a
// member's key (staff-channel requests sign "hearken-staff-v1").
const signedContext = "hearken-team-item-v1\n"

// maxLamport bounds a team item's Lamport time, so that arithmetic on it
// cannot overflow and a JSON number reads it exactly.
const maxLamport = 1 << 53

// Signed is the signed content of a team item.
type Signed struct {
	Thread  string `json:"thread"`
	ID      string `json:"id"`
	Kind    Kind   `json:"kind"`
	Author  string `json:"author"` // FormatSigningKey of the author's key
	Name    string `json:"name"`   // the author's display name, as they gave it
	Lamport uint64 `json:"lamport"`
	Day     string `json:"day"`
	Route   string `json:"route"`
	// Fields are a reply's words (field "message").
	Fields []Field `json:"fields,omitempty"`
	// Data is an event's content, which package vault does not read.
	Data json.RawMessage `json:"data,omitempty"`
}

var (
	// ErrUnsigned means a team item carries no signature.
	ErrUnsigned = errors.New("it is not signed")
	// ErrBadSignature means a team item's signature does not match its
	// content and the key it names: it was forged or changed.
	ErrBadSignature = errors.New("its signature does not match its content: it was forged or changed")
	// ErrReplayed means a correctly signed team item arrived as another
	// item, case or kind than the one its author signed it for.
	ErrReplayed = errors.New("it was signed for another case or item and sent again as this one")
)

// SignItem signs s as m and returns the envelope that carries it, ready to
// Seal. It sets s.Author and s.Name from m. The envelope's Fields and Author
// are left empty: Open fills them from the signed content.
func SignItem(m *Member, s *Signed) (*Envelope, error) {
	if s.Kind != KindReply && s.Kind != KindEvent {
		return nil, fmt.Errorf("failed to sign: a %q is not a team item", s.Kind)
	}
	if s.Lamport == 0 || s.Lamport > maxLamport {
		return nil, errors.New("failed to sign: the Lamport time is out of range")
	}
	s.Author, s.Name = FormatSigningKey(m.SigningPublic()), m.Name
	data, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("failed to sign: %w", err)
	}
	return &Envelope{Kind: s.Kind, Day: s.Day, Route: s.Route, Signed: data, Sig: m.Sign(signedMessage(data))}, nil
}

func signedMessage(data []byte) []byte {
	msg := make([]byte, 0, len(signedContext)+len(data))
	msg = append(msg, signedContext...)
	return append(msg, data...)
}

// IsSigned reports whether e carries signed content.
func (e *Envelope) IsSigned() bool { return len(e.Signed) > 0 }

// Verify checks that e is a team item signed by the key it names, exactly
// as it stands, for the item id and thread it arrived as, and returns its
// signed content. Whether that key may write on the route is for the
// caller to decide, against its own team file. Errors are ErrUnsigned,
// ErrBadSignature and ErrReplayed.
func (e *Envelope) Verify(thread, item string) (*Signed, error) {
	if len(e.Signed) == 0 && len(e.Sig) == 0 {
		return nil, ErrUnsigned
	}
	s, err := decodeSigned(e.Signed)
	if err != nil || len(e.Sig) != ed25519.SignatureSize {
		return nil, ErrBadSignature
	}
	pub, err := ParseSigningKey(s.Author)
	if err != nil || !ed25519.Verify(pub, signedMessage(e.Signed), e.Sig) {
		return nil, ErrBadSignature
	}
	if s.Thread != thread || s.ID != item || s.Kind != e.Kind {
		return nil, ErrReplayed
	}
	return s, nil
}

// decodeSigned reads signed content. Unknown members are refused: a
// reviewer must not show less than its author signed.
func decodeSigned(data []byte) (*Signed, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	var s Signed
	if err := d.Decode(&s); err != nil || d.More() {
		return nil, ErrMalformed
	}
	if s.Lamport == 0 || s.Lamport > maxLamport || (s.Kind != KindReply && s.Kind != KindEvent) {
		return nil, ErrMalformed
	}
	return &s, nil
}

// fillSigned checks a signed envelope's shape after Open and gives it the
// reply's words and author name from the signed content, as an unsigned
// envelope carries them. It verifies no signature: Verify does.
func (e *Envelope) fillSigned() error {
	if len(e.Signed) == 0 {
		if len(e.Sig) != 0 || e.Kind == KindEvent {
			return ErrMalformed
		}
		return nil
	}
	s, err := decodeSigned(e.Signed)
	if err != nil {
		return err
	}
	if e.Kind != s.Kind || len(e.Fields) > 0 || e.Author != "" || len(e.Attachments) > 0 || e.ReplyTo != "" {
		return ErrMalformed
	}
	e.Fields, e.Author = s.Fields, s.Name
	return nil
}
