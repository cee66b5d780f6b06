package staff

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearken-project/hearken/vault"
)

type sigFixture struct {
	alice, bob, mallory *vault.Member
	teams               map[string]*vault.Team
	now                 time.Time
	v                   *Verifier
}

func newSigFixture(t testing.TB) *sigFixture {
	t.Helper()
	f := &sigFixture{now: time.Unix(1_750_000_000, 0)}
	var err error
	for _, p := range []struct {
		m    **vault.Member
		name string
	}{{&f.alice, "Alice Adams"}, {&f.bob, "Bob Brown"}, {&f.mallory, "Mallory"}} {
		if *p.m, err = vault.GenerateMember(p.name); err != nil {
			t.Fatal(err)
		}
	}
	parse := func(ms ...*vault.Member) *vault.Team {
		var lines []string
		for _, m := range ms {
			lines = append(lines, m.TeamLine())
		}
		team, err := vault.ParseTeam(strings.NewReader(strings.Join(lines, "\n")))
		if err != nil {
			t.Fatal(err)
		}
		return team
	}
	f.teams = map[string]*vault.Team{
		"students": parse(f.alice, f.bob),
		"staff":    parse(f.alice),
	}
	f.v = NewVerifier(f.teams, func() time.Time { return f.now })
	return f
}

type signed struct {
	method, path, query string
	body                []byte
	sig                 Signature
}

func (s signed) header(name string) string { return s.sig.Headers()[name] }

func sign(t testing.TB, m *vault.Member, ts time.Time, method, path, query string, body []byte) signed {
	t.Helper()
	sig, err := Sign(m, method, path, query, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	return signed{method, path, query, body, sig}
}

func (f *sigFixture) verify(s signed) (*Member, error) {
	return f.v.Verify(s.method, s.path, s.query, s.header, s.body)
}

func wantReason(t *testing.T, err error, want Reason) {
	t.Helper()
	if !errors.Is(err, errUnauthorized) {
		t.Fatalf("error = %v, want errUnauthorized", err)
	}
	if err.Error() != "unauthorized" {
		t.Errorf("error text %q leaks detail", err.Error())
	}
	if got := UnauthorizedReason(err); got != want {
		t.Errorf("reason = %v, want %v", got, want)
	}
}

func TestVerifyGood(t *testing.T) {
	f := newSigFixture(t)
	s := sign(t, f.alice, f.now, "POST", RepliesPath, "", []byte(`{"x":1}`))
	m, err := f.verify(s)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "Alice Adams" || strings.Join(m.Routes, ",") != "staff,students" {
		t.Errorf("member = %q routes %v", m.Name, m.Routes)
	}
	if !m.InRoute("staff") || m.InRoute("other") {
		t.Error("InRoute is wrong")
	}
	if len(s.sig.Nonce) != 32 {
		t.Errorf("nonce %q is not 16 bytes hex", s.sig.Nonce)
	}
	s2 := sign(t, f.bob, f.now.Add(-4*time.Minute), "GET", ItemsPath, "after=3&limit=10", nil)
	m, err = f.verify(s2)
	if err != nil {
		t.Fatal(err)
	}
	if m.InRoute("staff") || !m.InRoute("students") {
		t.Errorf("bob routes = %v", m.Routes)
	}
}

func TestVerifyUnknownMember(t *testing.T) {
	f := newSigFixture(t)
	_, err := f.verify(sign(t, f.mallory, f.now, "GET", ItemsPath, "", nil))
	wantReason(t, err, ReasonUnknownMember)
}

func TestVerifyBadSignature(t *testing.T) {
	f := newSigFixture(t)
	s := sign(t, f.alice, f.now, "GET", ItemsPath, "after=0", nil)
	// Mallory signs but claims to be Alice.
	forged := sign(t, f.mallory, f.now, "GET", ItemsPath, "after=0", nil)
	forged.sig.Member = s.sig.Member
	_, err := f.verify(forged)
	wantReason(t, err, ReasonBadSignature)

	// Another method or path under the same signature fails too.
	for _, mut := range []func(*signed){
		func(x *signed) { x.method = "POST" },
		func(x *signed) { x.path = AcksPath },
	} {
		c := s
		mut(&c)
		_, err := f.verify(c)
		wantReason(t, err, ReasonBadSignature)
	}
}

func TestVerifyTamperedBodyAndQuery(t *testing.T) {
	f := newSigFixture(t)
	s := sign(t, f.alice, f.now, "POST", AcksPath, "after=5", []byte(`{"ids":["a"]}`))
	c := s
	c.body = []byte(`{"ids":["b"]}`)
	_, err := f.verify(c)
	wantReason(t, err, ReasonBadSignature)
	c = s
	c.query = "after=0"
	_, err = f.verify(c)
	wantReason(t, err, ReasonBadSignature)
	// The untouched request still verifies: the failures did not burn its nonce.
	if _, err := f.verify(s); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyStale(t *testing.T) {
	f := newSigFixture(t)
	for _, d := range []time.Duration{-5*time.Minute - time.Second, 5*time.Minute + time.Second, -time.Hour} {
		_, err := f.verify(sign(t, f.alice, f.now.Add(d), "GET", ItemsPath, "", nil))
		wantReason(t, err, ReasonStale)
	}
	for _, d := range []time.Duration{-5 * time.Minute, 5 * time.Minute} {
		if _, err := f.verify(sign(t, f.alice, f.now.Add(d), "GET", ItemsPath, "", nil)); err != nil {
			t.Errorf("%v: %v", d, err)
		}
	}
}

func TestVerifyReplay(t *testing.T) {
	f := newSigFixture(t)
	s := sign(t, f.alice, f.now, "GET", ItemsPath, "after=0", nil)
	if _, err := f.verify(s); err != nil {
		t.Fatal(err)
	}
	_, err := f.verify(s)
	wantReason(t, err, ReasonReplay)

	// Within the window the replay stays refused; after it, the request is stale.
	f.now = f.now.Add(window)
	_, err = f.verify(s)
	wantReason(t, err, ReasonReplay)
	f.now = f.now.Add(time.Second)
	_, err = f.verify(s)
	wantReason(t, err, ReasonStale)

	// Expired entries leave the cache.
	f.now = f.now.Add(time.Second)
	if _, err := f.verify(sign(t, f.alice, f.now, "GET", ItemsPath, "", nil)); err != nil {
		t.Fatal(err)
	}
	if n := len(f.v.seen); n != 1 {
		t.Errorf("replay cache holds %d entries, want 1", n)
	}
}

func TestVerifyReplayCacheBounded(t *testing.T) {
	f := newSigFixture(t)
	f.v.mu.Lock()
	for i := 0; i < maxReplayEntries; i++ {
		var k replayKey
		k.member[0] = 1
		k.nonce[0], k.nonce[1], k.nonce[2] = byte(i), byte(i>>8), byte(i>>16)
		f.v.seen[k] = struct{}{}
		f.v.expiry = append(f.v.expiry, replayEntry{key: k, expires: f.now.Unix() + 10})
	}
	f.v.mu.Unlock()
	_, err := f.verify(sign(t, f.alice, f.now, "GET", ItemsPath, "", nil))
	wantReason(t, err, ReasonBusy)
	f.now = f.now.Add(11 * time.Second)
	if _, err := f.verify(sign(t, f.alice, f.now, "GET", ItemsPath, "", nil)); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	f := newSigFixture(t)
	base := sign(t, f.alice, f.now, "GET", ItemsPath, "", nil)
	cases := map[string]struct {
		mut  func(*Signature)
		want Reason
	}{
		"no member":     {func(s *Signature) { s.Member = "" }, ReasonMissingHeader},
		"no signature":  {func(s *Signature) { s.Signature = "" }, ReasonMissingHeader},
		"bad key":       {func(s *Signature) { s.Member = "ed25519:AAAA" }, ReasonMalformed},
		"short nonce":   {func(s *Signature) { s.Nonce = "abcd" }, ReasonMalformed},
		"upper nonce":   {func(s *Signature) { s.Nonce = strings.ToUpper(s.Nonce) + "" }, ReasonMalformed},
		"time +":        {func(s *Signature) { s.Time = "+" + s.Time }, ReasonMalformed},
		"time word":     {func(s *Signature) { s.Time = "yesterday" }, ReasonMalformed},
		"sig not b64":   {func(s *Signature) { s.Signature = "!!!" }, ReasonMalformed},
		"sig too short": {func(s *Signature) { s.Signature = "AAAA" }, ReasonMalformed},
	}
	for name, c := range cases {
		s := base
		c.mut(&s.sig)
		if name == "upper nonce" && strings.ToUpper(base.sig.Nonce) == base.sig.Nonce {
			continue // all digits: nothing to upper-case
		}
		_, err := f.verify(s)
		if UnauthorizedReason(err) != c.want {
			t.Errorf("%s: reason %v, want %v", name, UnauthorizedReason(err), c.want)
		}
		wantReason(t, err, c.want)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	f := newSigFixture(t)
	s := sign(t, f.alice, f.now, "GET", ItemsPath, "", nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.verify(s); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("the same request verified %d times, want once", ok)
	}
}

// TestVerifyAlwaysChecksOneSignature shows every request that gets as far
// as a signature costs exactly one Ed25519 verification, whether its key is
// unknown, its time stale, its signature bad or good: an unknown key
// answered without one would answer measurably faster, and tell an
// outsider which keys the server knows (issue 8.9).
func TestVerifyAlwaysChecksOneSignature(t *testing.T) {
	f := newSigFixture(t)
	calls := 0
	f.v.verifySig = func(pub ed25519.PublicKey, msg, sig []byte) bool {
		calls++
		return ed25519.Verify(pub, msg, sig)
	}
	forged := sign(t, f.mallory, f.now, "GET", ItemsPath, "", nil)
	forged.sig.Member = sign(t, f.alice, f.now, "GET", ItemsPath, "", nil).sig.Member
	replayed := sign(t, f.alice, f.now, "GET", ItemsPath, "", nil)
	for _, c := range []struct {
		name string
		req  signed
		want Reason
	}{
		{"unknown key", sign(t, f.mallory, f.now, "GET", ItemsPath, "", nil), ReasonUnknownMember},
		{"stale", sign(t, f.alice, f.now.Add(-time.Hour), "GET", ItemsPath, "", nil), ReasonStale},
		{"unknown and stale", sign(t, f.mallory, f.now.Add(-time.Hour), "GET", ItemsPath, "", nil), ReasonUnknownMember},
		{"bad signature", forged, ReasonBadSignature},
		{"good", replayed, ReasonNone},
		{"replay", replayed, ReasonReplay},
	} {
		calls = 0
		_, err := f.verify(c.req)
		if got := UnauthorizedReason(err); got != c.want {
			t.Errorf("%s: reason %v, want %v", c.name, got, c.want)
		}
		if calls != 1 {
			t.Errorf("%s: %d signature verifications, want exactly 1", c.name, calls)
		}
	}
}

// BenchmarkVerifyRefusal prints what a refusal costs for an unknown key
// and for a known key with a bad signature: the figures should match.
func BenchmarkVerifyRefusal(b *testing.B) {
	f := newSigFixture(b)
	unknown := sign(b, f.mallory, f.now, "GET", ItemsPath, "", nil)
	forged := unknown
	forged.sig.Member = sign(b, f.alice, f.now, "GET", ItemsPath, "", nil).sig.Member
	for _, c := range []struct {
		name string
		req  signed
	}{{"unknown-key", unknown}, {"bad-signature", forged}} {
		req := c.req
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := f.verify(req); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}
