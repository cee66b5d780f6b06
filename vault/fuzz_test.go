package vault

import (
	"strings"
	"testing"
)

// FuzzParseMember: a decrypted identity file that is not exactly what
// SaveMember writes is refused, without echoing what it held.
func FuzzParseMember(f *testing.F) {
	m, _ := GenerateMember("Fuzz Lead")
	f.Add(string(m.marshal()))
	f.Add(memberHeader + "\nname: x\n")
	f.Add(memberHeader + "\nonion-x25519: AAAA\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseMember([]byte(s))
		if err != nil {
			if got != nil {
				t.Fatal("member with error")
			}
			for _, line := range strings.Split(s, "\n") {
				if len(line) > 12 && strings.Contains(err.Error(), line) {
					t.Fatal("error echoes the file")
				}
			}
			return
		}
		if got.identity == nil || got.signing.isZero() || checkName(got.Name) != nil {
			t.Fatal("incomplete member accepted")
		}
	})
}
