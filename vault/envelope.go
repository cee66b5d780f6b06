package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
)

// Kind says who wrote an envelope.
type Kind string

const (
	KindReport   Kind = "report"   // a reporter's first message; opens a thread
	KindFollowUp Kind = "followup" // a reporter's later message
	KindReply    Kind = "reply"    // a team member's answer
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
	// Author is the team member's display name, on replies.
	Author string `json:"author,omitempty"`
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
	// ErrWrongKey means none of the given identities can open the envelope.
	ErrWrongKey = errors.New("this item was not sealed to your key")
	// ErrTampered means the envelope failed authentication: it was changed
	// after sealing.
	ErrTampered = errors.New("this item was changed after it was sealed and cannot be trusted")
	// ErrTruncated means the envelope ends early.
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

// Seal encodes e, pads it to its bucket and encrypts it to every recipient.
func Seal(e *Envelope, recipients ...age.Recipient) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, errors.New("failed to seal: no recipients")
	}
	plain, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("failed to encode envelope: %w", err)
	}
	size := paddedSize(len(plain))
	if size > maxPlainSize {
		return nil, ErrTooLarge
	}
	var out bytes.Buffer
	out.Grow(size + size/4096 + 2048*len(recipients))
	w, err := age.Encrypt(&out, recipients...)
	if err != nil {
		return nil, fmt.Errorf("failed to seal: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("failed to seal: %w", err)
	}
	pad := []byte(strings.Repeat(" ", 4096))
	for left := size - len(plain); left > 0; left -= len(pad) {
		if _, err := w.Write(pad[:min(left, len(pad))]); err != nil {
			return nil, fmt.Errorf("failed to seal: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("failed to seal: %w", err)
	}
	return out.Bytes(), nil
}

// Open decrypts and decodes a sealed envelope. It returns plaintext only if
// the whole envelope authenticated; errors are ErrWrongKey, ErrTampered,
// ErrTruncated, ErrMalformed or ErrTooLarge.
func Open(sealed []byte, ids ...age.Identity) (*Envelope, error) {
	if len(sealed) > maxSealedSize {
		return nil, ErrTooLarge
	}
	if !bytes.HasPrefix(sealed, []byte("age-encryption.org/v1\n")) {
		if bytes.HasPrefix([]byte("age-encryption.org/v1\n"), sealed) {
			return nil, ErrTruncated
		}
		return nil, ErrMalformed
	}
	r, err := age.Decrypt(bytes.NewReader(sealed), ids...)
	if err != nil {
		return nil, classify(err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, maxPlainSize+1))
	if err != nil {
		if cut(sealed) {
			return nil, ErrTruncated
		}
		return nil, classify(err)
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
	case KindReport, KindFollowUp, KindReply, KindNote:
	default:
		return nil, ErrMalformed
	}
	return &e, nil
}

// cut reports whether a sealed envelope's payload is shorter than any
// padded size allows. Padding makes every honest payload a bucket size, so a
// payload that fails to authenticate and is not one was cut short, not
// altered in place.
func cut(sealed []byte) bool {
	i := bytes.Index(sealed, []byte("\n---"))
	if i < 0 {
		return true
	}
	j := bytes.IndexByte(sealed[i+1:], '\n')
	if j < 0 {
		return true
	}
	const nonce, chunk, tag = 16, 64 << 10, 16
	payload := len(sealed) - (i + 1 + j + 1) - nonce
	if payload <= tag {
		return true
	}
	chunks := (payload + chunk + tag - 1) / (chunk + tag)
	plain := payload - chunks*tag
	return paddedSize(plain) != plain
}

// classify turns age's errors into the vault's sentinels. age does not export
// most of them, so this leans on their documented behaviour: a header that
// ends early or a payload cut at a chunk boundary is io.ErrUnexpectedEOF.
// Open has already checked the age magic, so anything else that fails is
// damage to a real envelope.
func classify(err error) error {
	var noMatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &noMatch):
		return ErrWrongKey
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return ErrTruncated
	}
	return ErrTampered
}
