package vault

import (
	"container/heap"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Staff channel request signatures. Every staff request carries the member's
// Ed25519 public key, a timestamp, a random nonce and a signature over the
// method, path, raw query, timestamp, nonce and the SHA-256 of the body.

// Header names of a signed staff request.
const (
	HeaderMember    = "Hearken-Member"
	HeaderTime      = "Hearken-Time"
	HeaderNonce     = "Hearken-Nonce"
	HeaderSignature = "Hearken-Signature"
)

// StaffWindow is how far a request's timestamp may be from the server's clock.
const StaffWindow = 5 * time.Minute

const staffSigContext = "hearken-staff-v1"

// maxReplayEntries bounds the replay cache. Only correctly signed requests of
// known members enter it, so reaching it means a member's key is misbehaving;
// the verifier then refuses (fails closed) rather than forget a nonce early.
const maxReplayEntries = 100000

// ErrUnauthorized is the only error a staff request verification returns to
// callers. [UnauthorizedReason] tells why, for counting in logs.
var ErrUnauthorized = errors.New("unauthorized")

// AuthReason says why a staff request was refused. It carries no detail about
// the request, so it is safe to log and count.
type AuthReason int

const (
	ReasonNone AuthReason = iota
	ReasonMissingHeader
	ReasonMalformed
	ReasonUnknownMember
	ReasonStale
	ReasonBadSignature
	ReasonReplay
	ReasonBusy
	ReasonForbidden
)

var reasonNames = [...]string{
	ReasonNone:          "none",
	ReasonMissingHeader: "missing_header",
	ReasonMalformed:     "malformed",
	ReasonUnknownMember: "unknown_member",
	ReasonStale:         "stale",
	ReasonBadSignature:  "bad_signature",
	ReasonReplay:        "replay",
	ReasonBusy:          "replay_cache_full",
	ReasonForbidden:     "forbidden",
}

func (r AuthReason) String() string {
	if r < 0 || int(r) >= len(reasonNames) {
		return "unknown"
	}
	return reasonNames[r]
}

type authError struct{ reason AuthReason }

func (e *authError) Error() string        { return ErrUnauthorized.Error() }
func (e *authError) Is(target error) bool { return target == ErrUnauthorized }

// Unauthorized returns an error that is [ErrUnauthorized] and records reason.
func Unauthorized(reason AuthReason) error { return &authError{reason: reason} }

// UnauthorizedReason returns why err refused a request, or ReasonNone if err
// is not a refusal.
func UnauthorizedReason(err error) AuthReason {
	var ae *authError
	if errors.As(err, &ae) {
		return ae.reason
	}
	return ReasonNone
}

// StaffSignature holds the header values of a signed staff request.
type StaffSignature struct {
	Member    string // FormatSigningKey of the member's public key
	Time      string // unix seconds
	Nonce     string // 16 random bytes, hex
	Signature string // standard base64 of the Ed25519 signature
}

// Headers returns the signature as header name -> value.
func (s StaffSignature) Headers() map[string]string {
	return map[string]string{
		HeaderMember:    s.Member,
		HeaderTime:      s.Time,
		HeaderNonce:     s.Nonce,
		HeaderSignature: s.Signature,
	}
}

// SignRequest signs a staff request as m. query is the raw (still escaped)
// query string without "?", exactly as it is sent.
func SignRequest(m *Member, method, path, query string, ts time.Time, body []byte) (StaffSignature, error) {
	var n [16]byte
	if _, err := rand.Read(n[:]); err != nil {
		return StaffSignature{}, err
	}
	nonce := hex.EncodeToString(n[:])
	tstr := strconv.FormatInt(ts.Unix(), 10)
	bh := sha256.Sum256(body)
	msg := staffMessage(method, path, query, tstr, nonce, bh[:])
	return StaffSignature{
		Member:    FormatSigningKey(m.SigningPublic()),
		Time:      tstr,
		Nonce:     nonce,
		Signature: base64.StdEncoding.EncodeToString(m.Sign(msg)),
	}, nil
}

func staffMessage(method, path, query, ts, nonce string, bodyHash []byte) []byte {
	var b strings.Builder
	b.WriteString(staffSigContext)
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

// StaffMember is a verified caller of the staff channel.
type StaffMember struct {
	Name   string
	Key    string   // FormatSigningKey of the public key; the stable identity for acks
	Routes []string // routes whose team lists this member, sorted
}

// InRoute reports whether the member belongs to route's team.
func (m *StaffMember) InRoute(route string) bool {
	return slices.Contains(m.Routes, route)
}

type verifierMember struct {
	pub    ed25519.PublicKey
	member StaffMember
}

// Verifier checks signed staff requests against the members of the routes'
// teams. It is safe for concurrent use.
type Verifier struct {
	members []verifierMember
	now     func() time.Time

	mu     sync.Mutex
	seen   map[replayKey]struct{}
	expiry replayHeap
}

type replayKey struct {
	member int
	nonce  [16]byte
}

type replayEntry struct {
	key     replayKey
	expires int64
}

type replayHeap []replayEntry

func (h replayHeap) Len() int           { return len(h) }
func (h replayHeap) Less(i, j int) bool { return h[i].expires < h[j].expires }
func (h replayHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *replayHeap) Push(x any)        { *h = append(*h, x.(replayEntry)) }
func (h *replayHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// NewVerifier returns a Verifier for the members of teams (route -> team).
// A member listed in several teams may use all of those routes. now may be
// nil for time.Now.
func NewVerifier(teams map[string]*Team, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	v := &Verifier{now: now, seen: make(map[replayKey]struct{})}
	for route, t := range teams {
		if t == nil {
			continue
		}
		for _, tm := range t.Members {
			i := v.find(tm.SignKey)
			if i < 0 {
				v.members = append(v.members, verifierMember{
					pub:    tm.SignKey,
					member: StaffMember{Name: tm.Name, Key: FormatSigningKey(tm.SignKey)},
				})
				i = len(v.members) - 1
			}
			if !v.members[i].member.InRoute(route) {
				v.members[i].member.Routes = append(v.members[i].member.Routes, route)
			}
		}
	}
	for i := range v.members {
		slices.Sort(v.members[i].member.Routes)
	}
	return v
}

// find looks pub up, comparing against every member in constant time.
func (v *Verifier) find(pub ed25519.PublicKey) int {
	found := -1
	for i, m := range v.members {
		if len(pub) == len(m.pub) && subtle.ConstantTimeCompare(pub, m.pub) == 1 {
			found = i
		}
	}
	return found
}

// Verify checks a staff request. header returns a request header's value;
// query is the raw query string. Every failure is [ErrUnauthorized].
func (v *Verifier) Verify(method, path, query string, header func(string) string, body []byte) (*StaffMember, error) {
	memberStr, tstr := header(HeaderMember), header(HeaderTime)
	nonceStr, sigStr := header(HeaderNonce), header(HeaderSignature)
	if memberStr == "" || tstr == "" || nonceStr == "" || sigStr == "" {
		return nil, Unauthorized(ReasonMissingHeader)
	}
	pub, err := ParseSigningKey(memberStr)
	if err != nil {
		return nil, Unauthorized(ReasonMalformed)
	}
	var nonce [16]byte
	if len(nonceStr) != 32 || strings.ToLower(nonceStr) != nonceStr {
		return nil, Unauthorized(ReasonMalformed)
	}
	if _, err := hex.Decode(nonce[:], []byte(nonceStr)); err != nil {
		return nil, Unauthorized(ReasonMalformed)
	}
	if len(tstr) > 20 {
		return nil, Unauthorized(ReasonMalformed)
	}
	ts, err := strconv.ParseInt(tstr, 10, 64)
	if err != nil || strconv.FormatInt(ts, 10) != tstr {
		return nil, Unauthorized(ReasonMalformed)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(sigStr)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, Unauthorized(ReasonMalformed)
	}
	idx := v.find(pub)
	if idx < 0 {
		return nil, Unauthorized(ReasonUnknownMember)
	}
	now := v.now().Unix()
	window := int64(StaffWindow / time.Second)
	if ts < now-window || ts > now+window {
		return nil, Unauthorized(ReasonStale)
	}
	bh := sha256.Sum256(body)
	msg := staffMessage(method, path, query, tstr, nonceStr, bh[:])
	if !ed25519.Verify(v.members[idx].pub, msg, sig) {
		return nil, Unauthorized(ReasonBadSignature)
	}
	if r := v.remember(replayKey{member: idx, nonce: nonce}, ts+window, now); r != ReasonNone {
		return nil, Unauthorized(r)
	}
	m := v.members[idx].member
	m.Routes = append([]string(nil), m.Routes...)
	return &m, nil
}

// remember records a nonce until expires (the last second its request could
// still be in the window) and refuses one seen before.
func (v *Verifier) remember(k replayKey, expires, now int64) AuthReason {
	v.mu.Lock()
	defer v.mu.Unlock()
	for len(v.expiry) > 0 && v.expiry[0].expires < now {
		e := heap.Pop(&v.expiry).(replayEntry)
		delete(v.seen, e.key)
	}
	if _, ok := v.seen[k]; ok {
		return ReasonReplay
	}
	if len(v.seen) >= maxReplayEntries {
		return ReasonBusy
	}
	v.seen[k] = struct{}{}
	heap.Push(&v.expiry, replayEntry{key: k, expires: expires})
	return ReasonNone
}
