package staff

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/hearken-project/hearken/vault"
)

// Staff channel request signatures. Every staff request carries the member's
// Ed25519 public key, a timestamp, a random nonce and a signature over the
// method, path, raw query, timestamp, nonce and the SHA-256 of the body.

// Header names of a signed staff request.
const (
	headerMember    = "Hearken-Member"
	headerTime      = "Hearken-Time"
	headerNonce     = "Hearken-Nonce"
	headerSignature = "Hearken-Signature"
)

// window is how far a request's timestamp may be from the server's clock.
const window = 5 * time.Minute

const sigContext = "hearken-staff-v1"

// Signature holds the header values of a signed staff request.
type Signature struct {
	Member    string // vault.FormatSigningKey of the member's public key
	Time      string // unix seconds
	Nonce     string // 16 random bytes, hex
	Signature string // standard base64 of the Ed25519 signature
}

// Headers returns the signature as header name -> value.
func (s Signature) Headers() map[string]string {
	return map[string]string{
		headerMember:    s.Member,
		headerTime:      s.Time,
		headerNonce:     s.Nonce,
		headerSignature: s.Signature,
	}
}

// Sign signs a staff request as m. query is the raw (still escaped) query
// string without "?", exactly as it is sent.
func Sign(m *vault.Member, method, path, query string, ts time.Time, body []byte) (Signature, error) {
	var n [16]byte
	if _, err := rand.Read(n[:]); err != nil {
		return Signature{}, err
	}
	nonce := hex.EncodeToString(n[:])
	tstr := strconv.FormatInt(ts.Unix(), 10)
	bh := sha256.Sum256(body)
	msg := message(method, path, query, tstr, nonce, bh[:])
	return Signature{
		Member:    vault.FormatSigningKey(m.SigningPublic()),
		Time:      tstr,
		Nonce:     nonce,
		Signature: base64.StdEncoding.EncodeToString(m.Sign(msg)),
	}, nil
}

func message(method, path, query, ts, nonce string, bodyHash []byte) []byte {
	var b strings.Builder
	b.WriteString(sigContext)
	b.WriteByte('\n')
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(path)
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	b.WriteString(ts)
	b.WriteByte('\n')
	b.WriteString(nonce)
	b.WriteByte('\n')
	b.WriteString(hex.EncodeToString(bodyHash))
	return []byte(b.String())
}
