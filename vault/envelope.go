package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
)

// Kind says who wrote an envelope.
type Kind string

const (
	KindReport   Kind = "report"   // a reporter's first message; opens a thread
	KindFollowUp Kind = "followup" // a reporter's later message
	// KindReply is a team member's answer to the reporter. On the server
	// and the staff channel it is every team item, a reply or a team
	// event (KindEvent): only the sealed envelope says which.
	KindReply Kind = "reply"
	// KindNote is a team member's own record (triage, a note, the case
	// chronology), sealed to themselves in the reviewer's local store. It
	// never travels to the server.
	KindNote Kind = "note"
)

// Field is one named answer from the report form, kept in form order.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Attachment is a file sent with a report. Cleaned says whether identifying
// metadata was removed before sealing; the team is told when it was not.
type Attachment struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Cleaned bool   `json:"cleaned"`
	Data    []byte `json:"data"`
}

// Envelope is what gets sealed. The plaintext is JSON followed by space
// padding, so `age -d` output is readable as it is.
type Envelope struct {
	Kind        Kind         `json:"kind"`
	Day         string       `json:"day"`
	Route       string       `json:"route,omitempty"`
	Fields      []Field      `json:"fields,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// ReplyTo is the thread's reply recipient, on reports: team replies are
	// sealed to it so the reporter can read them with the receipt.
	ReplyTo string `json:"reply_to,omitempty"`
	// Author is the team member's display name, on replies. On a signed
	// team item Open fills it, and Fields, from the signed content.
	Author string `json:"author,omitempty"`
	// Signed is a team item's signed content, exactly as its author
	// encoded it, and Sig the author's signature over it (signed.go).
	Signed json.RawMessage `json:"signed,omitempty"`
	Sig    []byte          `json:"sig,omitempty"`
}

// Field returns the value of the named field, or "".
func (e *Envelope) Field(name string) string {
	for _, f := range e.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

var (
	// ErrWrongKey means none of the given identities can open the
	// envelope: it was sealed to others, or the part sealed to them was
	// changed, which ML-KEM cannot tell apart.
	ErrWrongKey = errors.New("this item cannot be opened with your key: it was sealed to others, or the part sealed to you was damaged")
	// ErrTampered means the envelope failed authentication: it was changed
	// after sealing.
	ErrTampered = errors.New("this item was changed after it was sealed and cannot be trusted")
	// ErrTruncated means the envelope is shorter than its padded size: it
	// ends early.
	ErrTruncated = errors.New("this item is incomplete: it was cut short")
	// ErrMalformed means the data is not a sealed Hearken envelope.
	ErrMalformed = errors.New("this is not a sealed Hearken item")
	// ErrTooLarge means an envelope is over the size limit.
	ErrTooLarge = errors.New("this item is too large")
)

// Padding buckets: a sealed envelope reveals only which bucket its contents
// fell in. Above the last bucket, sizes round up to a multiple of bigBucket.
var buckets = []int{4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20}

const (
	bigBucket = 8 << 20
	// maxPlainSize bounds an envelope's padded plaintext: five 10 MiB
	// attachments in base64 plus the form fit comfortably.
	maxPlainSize = 72 << 20
	// maxSealedSize bounds a sealed envelope: the plaintext, age's 16 bytes
	// per 64 KiB chunk, and a header with room for a large team.
	maxSealedSize = maxPlainSize + maxPlainSize/4096 + 1<<20
)

// paddedSize returns the bucket a plaintext of n bytes is padded to.
func paddedSize(n int) int {
	for _, b := range buckets {
		if n <= b {
			return b
		}
	}
	return (n + bigBucket - 1) / bigBucket * bigBucket
}

// padding fills an envelope to its bucket. It is only ever read.
var padding = bytes.Repeat([]byte(" "), 4096)

// Seal encodes e, pads it to its bucket and encrypts it to every recipient.
func Seal(e *Envelope, recipients ...age.Recipient) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, errors.New("failed to seal: no recipients")
	}
	plain, err := encode(e)
	if err != nil {
		return nil, err
	}
	size := paddedSize(len(plain))
	if size > maxPlainSize {
		return nil, ErrTooLarge
	}
	// The sealed envelope is written into one buffer of its final size.
	out := bytes.NewBuffer(make([]byte, 0, sealedSize(size, recipients)))
	w, err := age.Encrypt(out, recipients...)
	if err != nil {
		return nil, fmt.Errorf("failed to seal: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("failed to seal: %w", err)
	}
	for left := size - len(plain); left > 0; left -= len(padding) {
		if _, err := w.Write(padding[:min(left, len(padding))]); err != nil {
			return nil, fmt.Errorf("failed to seal: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("failed to seal: %w", err)
	}
	return out.Bytes(), nil
}

// encode writes e as JSON. A signed team item carries its words only in
// its signed content, whose bytes must come out exactly as they were
// signed.
func encode(e *Envelope) ([]byte, error) {
	if e.IsSigned() {
		c := *e
		c.Fields, c.Author = nil, ""
		e = &c
	}
	plain, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("failed to encode envelope: %w", err)
	}
	if e.IsSigned() && !bytes.Contains(plain, e.Signed) {
		return nil, errors.New("failed to encode envelope: its signed content would change")
	}
	return plain, nil
}

// sealedSize is the length of the age file that seals size bytes of
// plaintext to recipients: the header (the age line, a stanza per
// recipient, the MAC line) and the payload. A hybrid recipient's stanza
// has a fixed length; another kind gets an allowance, and the buffer grows
// if that is too little.
func sealedSize(size int, recipients []age.Recipient) int {
	const (
		// "--- " and the header's HMAC-SHA256 in unpadded base64.
		macLine = len("--- ") + 43 + len("\n")
		// "-> mlkem768x25519 ", the 1,120-byte encapsulated key (ML-KEM-768
		// and X25519) in unpadded base64, and the 32-byte wrapped file
		// key in unpadded base64 on the body line.
		hybridStanzaLen = len("-> "+hybridStanza+" ") + 1494 + len("\n") + 43 + len("\n")
		otherStanzaLen  = 2 << 10
	)
	n := len(ageMagic) + macLine + payloadLen(size)
	for _, r := range recipients {
		if _, ok := r.(*age.HybridRecipient); ok {
			n += hybridStanzaLen
		} else {
			n += otherStanzaLen
		}
	}
	return n
}

// Open decrypts and decodes a sealed envelope. It returns plaintext only if
// the whole envelope authenticated; errors are ErrWrongKey, ErrTampered,
// ErrTruncated, ErrMalformed or ErrTooLarge.
func Open(sealed []byte, ids ...age.Identity) (*Envelope, error) {
	if len(sealed) > maxSealedSize {
		return nil, ErrTooLarge
	}
	if !bytes.HasPrefix(sealed, []byte(ageMagic)) {
		if bytes.HasPrefix([]byte(ageMagic), sealed) {
			return nil, ErrTruncated
		}
		return nil, ErrMalformed
	}
	r, err := age.Decrypt(bytes.NewReader(sealed), ids...)
	if err != nil {
		return nil, headerErr(sealed, err)
	}
	// The plaintext is shorter than the envelope: read it into one buffer
	// of that size rather than let ReadAll grow one step by step.
	pb := bytes.NewBuffer(make([]byte, 0, min(len(sealed), maxPlainSize)+bytes.MinRead))
	_, err = pb.ReadFrom(io.LimitReader(r, maxPlainSize+1))
	plain := pb.Bytes()
	if err != nil {
		return nil, payloadErr(sealed, len(plain), err, ids)
	}
	if len(plain) > maxPlainSize {
		return nil, ErrTooLarge
	}
	var e Envelope
	// The padding is spaces after the JSON; trimming it first spares the
	// decoder from scanning what is mostly padding.
	if err := json.Unmarshal(bytes.TrimRight(plain, " "), &e); err != nil {
		return nil, ErrMalformed
	}
	switch e.Kind {
	case KindReport, KindFollowUp, KindReply, KindNote, KindEvent:
	default:
		return nil, ErrMalformed
	}
	if err := e.fillSigned(); err != nil {
		return nil, err
	}
	return &e, nil
}

const (
	ageMagic = "age-encryption.org/v1\n"
	// hybridStanza is the type of the stanza an age hybrid recipient
	// writes: the only kind Hearken seals to.
	hybridStanza = "mlkem768x25519"
	// age's payload: a nonce, then chunks of 64 KiB of plaintext, each
	// with a 16-byte tag.
	payloadNonce = 16
	payloadChunk = 64 << 10
	payloadTag   = 16
)

// headerErr classifies a header that failed. age does not export most of
// its errors, so this leans on their documented behaviour: a header that
// ends early is io.ErrUnexpectedEOF. Open has already checked the age
// magic, so anything else that fails is damage to a real envelope.
//
// When no stanza opens with the member's key, the envelope was sealed to
// others, or the stanza sealed to them was changed: ML-KEM rejects a
// changed ciphertext implicitly, so the two cannot be told apart, and
// ErrWrongKey says both. But Hearken seals only to hybrid recipients, so a
// stanza of any other type is a change (its type was damaged).
func headerErr(sealed []byte, err error) error {
	var noMatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &noMatch):
		if !onlyHybridStanzas(sealed) {
			return ErrTampered
		}
		return ErrWrongKey
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return ErrTruncated
	}
	return ErrTampered
}

// onlyHybridStanzas reports whether every stanza in a parsed header is of
// the hybrid type. A stanza starts a line with "-> "; its body lines are
// base64, which never does.
func onlyHybridStanzas(sealed []byte) bool {
	end := bytes.Index(sealed, []byte("\n---"))
	if end < 0 {
		return false
	}
	for line := range bytes.SplitSeq(sealed[len(ageMagic):end], []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte("-> ")); ok {
			typ, _, _ := bytes.Cut(rest, []byte(" "))
			if string(typ) != hybridStanza {
				return false
			}
		}
	}
	return true
}

// payloadErr classifies a payload that failed to authenticate after its
// header opened, and after good bytes of plaintext came out. Padding makes
// every honest payload a bucket size; one that is not was either cut short
// or had bytes added to its end. It is called cut short only if it is not
// an honest envelope with bytes added: age releases only chunks that
// authenticate, so such an envelope's bucket lies between good and one
// chunk more, and if the envelope cut to such a bucket authenticates, what
// lay past it was added (ErrTampered).
func payloadErr(sealed []byte, good int, err error, ids []age.Identity) error {
	hdr, plain, ok := payloadSize(sealed)
	switch {
	case !ok:
		return ErrTruncated
	case paddedSize(plain) == plain:
		// A bucket's size: changed in place, unless age saw it end early.
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return ErrTruncated
		}
		return ErrTampered
	}
	for b := paddedSize(max(good, 1)); b <= good+payloadChunk; b = paddedSize(b + 1) {
		if n := hdr + payloadLen(b); n < len(sealed) && authenticates(sealed[:n], ids) {
			return ErrTampered
		}
	}
	return ErrTruncated
}

// payloadSize returns the length of a sealed envelope's header and how
// much plaintext its payload would hold; ok is false if there is no whole
// header, or no room for a single chunk.
func payloadSize(sealed []byte) (hdr, plain int, ok bool) {
	i := bytes.Index(sealed, []byte("\n---"))
	if i < 0 {
		return 0, 0, false
	}
	j := bytes.IndexByte(sealed[i+1:], '\n')
	if j < 0 {
		return 0, 0, false
	}
	hdr = i + 1 + j + 1
	payload := len(sealed) - hdr - payloadNonce
	if payload <= payloadTag {
		return 0, 0, false
	}
	chunks := (payload + payloadChunk + payloadTag - 1) / (payloadChunk + payloadTag)
	return hdr, payload - chunks*payloadTag, true
}

// payloadLen is the length of the payload of an envelope padded to bucket
// b: age writes no empty last chunk after a full one.
func payloadLen(b int) int {
	return payloadNonce + b + (b+payloadChunk-1)/payloadChunk*payloadTag
}

// authenticates reports whether sealed opens whole with ids.
func authenticates(sealed []byte, ids []age.Identity) bool {
	r, err := age.Decrypt(bytes.NewReader(sealed), ids...)
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, io.LimitReader(r, maxPlainSize+1))
	return err == nil
}
