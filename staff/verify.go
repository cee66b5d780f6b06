package staff

import (
	"container/heap"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hearken-project/hearken/vault"
)

// maxReplayEntries bounds the replay cache. Only correctly signed requests of
// known members enter it, so reaching it means a member's key is misbehaving;
// the verifier then refuses (fails closed) rather than forget a nonce early.
const maxReplayEntries = 100000

// errUnauthorized is the only error a staff request verification returns.
// [UnauthorizedReason] tells why, for counting in logs.
var errUnauthorized = errors.New("unauthorized")

// Reason says why a staff request was refused. It carries no detail about
// the request, so it is safe to log and count.
type Reason int

const (
	ReasonNone Reason = iota
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

func (r Reason) String() string {
	if r < 0 || int(r) >= len(reasonNames) {
		return "unknown"
	}
	return reasonNames[r]
}

type authError struct{ reason Reason }

func (e *authError) Error() string        { return errUnauthorized.Error() }
func (e *authError) Is(target error) bool { return target == errUnauthorized }

// unauthorized returns an error that is errUnauthorized and records reason.
func unauthorized(reason Reason) error { return &authError{reason: reason} }

// UnauthorizedReason returns why err refused a request, or ReasonNone if err
// is not a refusal.
func UnauthorizedReason(err error) Reason {
	var ae *authError
	if errors.As(err, &ae) {
		return ae.reason
	}
	return ReasonNone
}

// Member is a verified caller of the staff channel.
type Member struct {
	Name   string
	Key    string   // vault.FormatSigningKey of the public key; the stable identity for acks
	Routes []string // routes whose team lists this member, sorted
}

// InRoute reports whether the member belongs to route's team.
func (m *Member) InRoute(route string) bool {
	return slices.Contains(m.Routes, route)
}

type verifierMember struct {
	pub    ed25519.PublicKey
	member Member
}

// Verifier checks signed staff requests against the members of the routes'
// teams. It is safe for concurrent use, and its teams can be replaced while
// it serves (SetTeams).
type Verifier struct {
	// members is replaced whole, never changed in place: a request is
	// checked against one list from start to end.
	members atomic.Pointer[[]verifierMember]
	now     func() time.Time
	// decoy stands in for an unknown key, so that every request costs one
	// verification.
	decoy ed25519.PublicKey
	// verifySig is ed25519.Verify; a test counts its calls.
	verifySig func(pub ed25519.PublicKey, msg, sig []byte) bool

	mu     sync.Mutex
	seen   map[replayKey]struct{}
	expiry replayHeap
}

// replayKey is a member's public key and a nonce. It names the member by
// key, not by place in the list, so the cache stays sound when the teams
// change: a nonce seen before a reload is still refused after it.
type replayKey struct {
	member [ed25519.PublicKeySize]byte
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
func NewVerifier(teams map[string]*vault.Team, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	// A random key of nobody's: no signature verifies under it. crypto/rand
	// does not fail (since Go 1.24 it never returns an error).
	decoy, _, _ := ed25519.GenerateKey(nil)
	v := &Verifier{now: now, seen: make(map[replayKey]struct{}), decoy: decoy, verifySig: ed25519.Verify}
	v.SetTeams(teams)
	return v
}

// SetTeams replaces the teams whose members may use the channel, at once:
// a request is checked against the old teams or the new, never a mixture.
// A member no longer listed is refused from then on; the replay cache is
// kept, so no request accepted before can be replayed after.
func (v *Verifier) SetTeams(teams map[string]*vault.Team) {
	var members []verifierMember
	for route, t := range teams {
		if t == nil {
			continue
		}
		for _, tm := range t.Members {
			i := find(members, tm.SignKey)
			if i < 0 {
				members = append(members, verifierMember{
					pub:    tm.SignKey,
					member: Member{Name: tm.Name, Key: vault.FormatSigningKey(tm.SignKey)},
				})
				i = len(members) - 1
			}
			if !members[i].member.InRoute(route) {
				members[i].member.Routes = append(members[i].member.Routes, route)
			}
		}
	}
	for i := range members {
		slices.Sort(members[i].member.Routes)
	}
	v.members.Store(&members)
}

// find looks pub up in members, comparing against every member in
// constant time: the time it takes depends on the number of members only.
func find(members []verifierMember, pub ed25519.PublicKey) int {
	found := -1
	for i, m := range members {
		found = subtle.ConstantTimeSelect(subtle.ConstantTimeCompare(pub, m.pub), i, found)
	}
	return found
}

// Verify checks a staff request. header returns a request header's value;
// query is the raw query string. Every failure is the same "unauthorized"
// error; [UnauthorizedReason] tells why.
func (v *Verifier) Verify(method, path, query string, header func(string) string, body []byte) (*Member, error) {
	memberStr, tstr := header(headerMember), header(headerTime)
	nonceStr, sigStr := header(headerNonce), header(headerSignature)
	if memberStr == "" || tstr == "" || nonceStr == "" || sigStr == "" {
		return nil, unauthorized(ReasonMissingHeader)
	}
	pub, err := vault.ParseSigningKey(memberStr)
	if err != nil {
		return nil, unauthorized(ReasonMalformed)
	}
	var nonce [16]byte
	if len(nonceStr) != 32 || strings.ToLower(nonceStr) != nonceStr {
		return nil, unauthorized(ReasonMalformed)
	}
	if _, err := hex.Decode(nonce[:], []byte(nonceStr)); err != nil {
		return nil, unauthorized(ReasonMalformed)
	}
	if len(tstr) > 20 {
		return nil, unauthorized(ReasonMalformed)
	}
	ts, err := strconv.ParseInt(tstr, 10, 64)
	if err != nil || strconv.FormatInt(ts, 10) != tstr {
		return nil, unauthorized(ReasonMalformed)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(sigStr)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, unauthorized(ReasonMalformed)
	}
	// One signature verification whatever the key: against a decoy key
	// for an unknown one, so that an outsider cannot tell from the time of
	// the answer which keys the server knows. The lookup runs over every
	// member in constant time for the same reason.
	members := *v.members.Load()
	idx := find(members, pub)
	key := v.decoy
	if idx >= 0 {
		key = members[idx].pub
	}
	bh := sha256.Sum256(body)
	msg := message(method, path, query, tstr, nonceStr, bh[:])
	good := v.verifySig(key, msg, sig)
	if idx < 0 {
		return nil, unauthorized(ReasonUnknownMember)
	}
	now := v.now().Unix()
	win := int64(window / time.Second)
	if ts < now-win || ts > now+win {
		return nil, unauthorized(ReasonStale)
	}
	if !good {
		return nil, unauthorized(ReasonBadSignature)
	}
	rk := replayKey{nonce: nonce}
	copy(rk.member[:], members[idx].pub)
	if r := v.remember(rk, ts+win, now); r != ReasonNone {
		return nil, unauthorized(r)
	}
	m := members[idx].member
	m.Routes = append([]string(nil), m.Routes...)
	return &m, nil
}

// remember records a nonce until expires (the last second its request could
// still be in the window) and refuses one seen before.
func (v *Verifier) remember(k replayKey, expires, now int64) Reason {
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
