package cases

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Case numbers are the same on every computer of the team: "HK-" and
// eight symbols of Crockford's base32, grouped four and four
// (HK-7K3M-Q9XD), written from the first 40 bits of the thread id. Thread
// ids are random (UUID v4 from crypto/rand), so those bits are too: among
// 10,000 cases the chance that any two share a number is under one in
// 20,000. Should two ever share one, or a server choose a thread id to
// collide on purpose, the later case takes a number from the next bits of
// its own id and says so (Notice); the first keeps its number.
//
// Stores of reviewer before case numbers were shared numbered cases on
// each computer, HK-0001 upwards. Those numbers are kept as each case's
// Former number, and FindCase still accepts them.

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// numberBits is how many bits of the thread id a case number shows.
const numberBits = 40

// CaseNumber formats a case number: HK-7K3M-Q9XD.
func CaseNumber(n uint64) string {
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = crockford[n&31]
		n >>= 5
	}
	return "HK-" + string(b[:4]) + "-" + string(b[4:])
}

// numberOf is the case number of a thread id; alt picks the next 40 bits
// instead, for a thread whose number another case already has.
func numberOf(thread string, alt bool) (uint64, error) {
	u, err := uuid.Parse(thread)
	if err != nil {
		return 0, errors.New("a case's thread id is not a uuid")
	}
	off := 0
	if alt {
		off = 5
	}
	var b [8]byte
	copy(b[3:], u[off:off+5])
	return binary.BigEndian.Uint64(b[:]), nil
}

// NumberOf returns the number a thread's case has on every computer of the
// team (unless another case had it first: see Notice).
func NumberOf(thread string) (uint64, error) { return numberOf(thread, false) }

// ParseCaseNumber reads a whole case number, forgiving case, spaces,
// hyphens and the letters people mistake for digits (I and L for 1, O for
// 0): "HK-7K3M-Q9XD", "hk 7k3m q9xd", "7K3MQ9XD". FindCase also takes
// unique beginnings and this computer's former numbers.
func ParseCaseNumber(s string) (uint64, error) {
	for _, c := range candidates(s) {
		if len(c) == 8 {
			return decodeSymbols(c), nil
		}
	}
	return 0, fmt.Errorf("%q is not a case number; case numbers look like HK-7K3M-Q9XD (see reviewer list)", s)
}

// CheckCaseRef reports whether s could name a case: a case number, the
// beginning of one, or a former number (HK-0001). A caller can check
// before asking for a passphrase; FindCase resolves it.
func CheckCaseRef(s string) error {
	if len(candidates(s)) == 0 && formerNumber(s) == 0 {
		return fmt.Errorf("%q is not a case number; case numbers look like HK-7K3M-Q9XD (see reviewer list)", s)
	}
	return nil
}

// minPrefix is the fewest symbols FindCase takes as the beginning of a
// number (after "HK").
const minPrefix = 3

// candidates are the symbol strings s may mean: after "HK", the whole
// number or its start (3 to 8 symbols); without it, only a whole number
// (8 symbols), so that a word is never taken for the start of one. A
// number whose symbols begin with H and K may mean either.
func candidates(s string) []string {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "#")
	t = strings.NewReplacer("-", "", " ", "", "I", "1", "L", "1", "O", "0").Replace(t)
	var out []string
	add := func(c string, least int) {
		if len(c) < least || len(c) > 8 {
			return
		}
		for _, r := range c {
			if !strings.ContainsRune(crockford, r) {
				return
			}
		}
		out = append(out, c)
	}
	if rest, ok := strings.CutPrefix(t, "HK"); ok {
		add(rest, minPrefix)
	}
	add(t, 8)
	return out
}

func decodeSymbols(c string) uint64 {
	var n uint64
	for _, r := range c {
		n = n<<5 | uint64(strings.IndexRune(crockford, r))
	}
	return n
}

// formerNumber reads a number of the kind reviewer gave before numbers
// were shared ("HK-0001", "hk7", "#7"); 0 if s is not one.
func formerNumber(s string) uint64 {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "#")
	t = strings.TrimPrefix(t, "HK")
	t = strings.TrimPrefix(t, "-")
	if t == "" || len(t) > 9 {
		return 0
	}
	var n uint64
	for _, r := range t {
		if r < '0' || r > '9' {
			return 0
		}
		n = n*10 + uint64(r-'0')
	}
	return n
}

// FindCase resolves what a member typed to a case here: a whole number, a
// beginning of one, after "HK", that only one case has (HK-7K3M), or the number this
// computer gave the case before numbers were shared (HK-0001). Anything
// that could mean two cases is refused and names them.
func (s *Store) FindCase(ref string) (uint64, error) {
	found := map[uint64]bool{}
	var names []string
	err := s.db.View(func(tx *bolt.Tx) error {
		nums := tx.Bucket(bCaseNums)
		for _, c := range candidates(ref) {
			lo := decodeSymbols(c) << (5 * (8 - len(c)))
			hi := lo + 1<<(5*(8-len(c)))
			cur := nums.Cursor()
			for k, _ := cur.Seek(be(lo)); k != nil && binary.BigEndian.Uint64(k) < hi; k, _ = cur.Next() {
				n := binary.BigEndian.Uint64(k)
				if !found[n] {
					found[n] = true
					names = append(names, CaseNumber(n))
				}
			}
		}
		if old := formerNumber(ref); old != 0 {
			if v := tx.Bucket(bFormer).Get(be(old)); len(v) == 8 {
				n := binary.BigEndian.Uint64(v)
				if !found[n] {
					found[n] = true
					names = append(names, fmt.Sprintf("%s (this computer's former HK-%04d)", CaseNumber(n), old))
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	switch len(found) {
	case 0:
		return 0, fmt.Errorf("%s: %w", strings.TrimSpace(ref), ErrNoCase)
	case 1:
		for n := range found {
			return n, nil
		}
	}
	sort.Strings(names)
	return 0, fmt.Errorf("%q could be any of %s: type more of the number", strings.TrimSpace(ref), strings.Join(names, ", "))
}
