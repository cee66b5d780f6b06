package vault

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testTeam(t testing.TB, n int) ([]*Member, *Team) {
	t.Helper()
	var ms []*Member
	var lines []string
	for i := range n {
		m, err := GenerateMember(fmt.Sprintf("Lead %d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
		lines = append(lines, m.TeamLine())
	}
	team, err := ParseTeam(strings.NewReader("# safeguarding team\n\n" + strings.Join(lines, "\n") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return ms, team
}

func TestParseTeam(t *testing.T) {
	ms, team := testTeam(t, 3)
	if len(team.Members) != 3 || team.Members[2].Name != "Lead 3" {
		t.Fatalf("parsed %+v", team.Members)
	}
	if got, ok := team.Lookup(ms[1].SigningPublic()); !ok || got.Name != "Lead 2" {
		t.Fatal("lookup failed")
	}
	other, _ := GenerateMember("Stranger")
	if _, ok := team.Lookup(other.SigningPublic()); ok {
		t.Fatal("stranger found")
	}
	if len(team.Recipients()) != 3 {
		t.Fatal("recipients")
	}
}

func TestParseTeamErrors(t *testing.T) {
	a, _ := GenerateMember("Alice")
	b, _ := GenerateMember("Bob")
	fa := strings.Fields(a.TeamLine())
	fb := strings.Fields(b.TeamLine())
	x25519 := "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
	tests := []struct {
		name, file, want string
	}{
		{"empty", "# nobody\n", "no members"},
		{"two words", "# c\n" + fa[0] + " " + fa[1] + "\n", "line 2: expected"},
		{"classic recipient", x25519 + " " + fa[1] + " Eve\n", "line 1: the first word must be a post-quantum"},
		{"bad recipient", fa[0][:len(fa[0])-3] + "qqq " + fa[1] + " Eve\n", "line 1: the age recipient is not valid"},
		{"bad signing", fa[0] + " ed25519:AAAA Eve\n", "line 1: signing key is not a valid"},
		{"unprefixed signing", fa[0] + " " + strings.TrimPrefix(fa[1], "ed25519:") + " Eve\n", "line 1: signing key must start"},
		{"duplicate recipient", a.TeamLine() + "\n" + fa[0] + " " + fb[1] + " Bob\n", "line 2: this recipient is already on line 1"},
		{"duplicate signing", a.TeamLine() + "\n" + fb[0] + " " + fa[1] + " Bob\n", "line 2: this signing key is already on line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTeam(strings.NewReader(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			for _, f := range append(fa, fb...) {
				if len(f) > 12 && strings.Contains(err.Error(), f[8:]) {
					t.Fatal("error echoes key material")
				}
			}
			if strings.Contains(err.Error(), "ed25519:AAAA") || strings.Contains(err.Error(), x25519[:20]) {
				t.Fatal("error echoes key material")
			}
		})
	}
}

func FuzzParseTeam(f *testing.F) {
	a, _ := GenerateMember("Alice")
	f.Add(a.TeamLine() + "\n")
	f.Add("# comment\n\n" + a.TeamLine() + "\n")
	f.Add("age1pq1 ed25519: x\n")
	f.Add(a.TeamLine()[:76] + "\n" + a.TeamLine()[76:] + "\n")
	f.Add(a.TeamLine() + "\nLead\n")
	f.Add("age1pq1 ed25519: descriptor:x25519: x\n")
	f.Add(string(mustReadFile(f, "testdata/v1-no-onion.pub")))
	f.Fuzz(func(t *testing.T, s string) {
		team, err := ParseTeam(strings.NewReader(s))
		if err != nil {
			for _, w := range strings.Fields(s) {
				if len(w) >= 16 && strings.Contains(err.Error(), w) {
					t.Fatalf("error echoes input word %q", w)
				}
			}
			return
		}
		if len(team.Members) == 0 {
			t.Fatal("team without members accepted")
		}
	})
}

// TestParseTeamWrapped shows a member.pub line cut in two by an email
// program is named as such, on the line where the cut begins or on a line
// that is only the rest of a key, without quoting any of it.
func TestParseTeamWrapped(t *testing.T) {
	a, _ := GenerateMember("Dana Lead")
	b, _ := GenerateMember("Sam Deputy")
	line := a.TeamLine()
	f := strings.Fields(line)
	hard := func(s string, width int) string { // a mail program's hard wrap
		var out []string
		for len(s) > width {
			out = append(out, s[:width])
			s = s[width:]
		}
		return strings.Join(append(out, s), "\n")
	}
	const cut = "looks cut in two by an email program; put the member's line back on one line"
	const rest = "looks like the end of a member's line, cut off by an email program; put the member's line back on one line"
	tests := []struct {
		name, file, want string
	}{
		{"hard wrap at 76", hard(line, 76) + "\n", "line 1: this line " + cut},
		{"hard wrap after a good member", b.TeamLine() + "\n" + hard(line, 72) + "\n", "line 2: this line " + cut},
		{"wrapped at the spaces", f[0] + "\n" + f[1] + " " + f[2] + " " + f[3] + "\n", "line 1: this line " + cut},
		{"signing key cut", f[0] + " " + f[1][:20] + "\n" + f[1][20:] + " " + f[2] + " " + f[3] + "\n", "line 1: this line " + cut},
		{"recipient only", f[0] + "\n", "line 1: this line " + cut},
		{"start cut off", "# team\n" + f[0][200:] + " " + f[1] + " Dana Lead\n", "line 2: this line " + rest},
		{"signing key on its own line", "# team\n" + f[1] + " Dana Lead\n", "line 2: this line " + rest},
		{"name wrapped", line[:len(line)-len(" Lead")] + "\nLead\n", "line 2: this line " + rest},
		{"whole name wrapped", f[0] + " " + f[1] + "\nDana Lead\n", "line 1: this line " + cut},
		{"blank line between", line[:len(line)-len(" Lead")] + "\n\nLead\n", "line 3: this line " + rest},
		{"onion key on its own line", f[0] + " " + f[1] + "\n" + f[2] + " Dana Lead\n", "line 1: this line " + cut},
		{"onion key cut", f[0] + " " + f[1] + " " + f[2][:30] + "\n" + f[2][30:] + " Dana Lead\n", "line 1: this line " + cut},
		{"onion key, name wrapped", f[0] + " " + f[1] + " " + f[2] + "\nDana Lead\n", "line 1: this line " + cut},
		{"rest of an onion key", "# team\n" + f[2][30:] + " Dana Lead\n", "line 2: this line " + rest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTeam(strings.NewReader(tt.file))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v\nwant %s", err, tt.want)
			}
			for _, w := range strings.Fields(strings.ReplaceAll(tt.file, ":", " ")) {
				if len(w) >= 12 && strings.Contains(err.Error(), w) {
					t.Fatalf("error quotes key material %q", w)
				}
			}
		})
	}
	// A line that is simply wrong is not called wrapped.
	for _, file := range []string{"hello\n", "age1pq1qqqq ed25519:AAAA Eve\n", "# c\n" + f[0] + " " + f[1] + "\n",
		f[0] + " " + f[1] + "\n" + b.TeamLine() + "\n", "hello there\n" + line + "\n"} {
		if _, err := ParseTeam(strings.NewReader(file)); err == nil || strings.Contains(err.Error(), "email") {
			t.Errorf("%.20q: %v", file, err)
		}
	}
}

// A team file longer than the limit is refused, not cut short: a member
// listed after 1.1 MB of comments would silently get no reports.
func TestTeamFileTooLong(t *testing.T) {
	ms, _ := testTeam(t, 2)
	comments := strings.Repeat("# "+strings.Repeat("x", 98)+"\n", 11000) // 1.1 MB
	_, err := ParseTeam(strings.NewReader(ms[0].TeamLine() + "\n" + comments + ms[1].TeamLine() + "\n"))
	if err == nil || !strings.Contains(err.Error(), "longer than 1 MiB") {
		t.Fatalf("got %v", err)
	}
	// Exactly at the limit is fine.
	line := ms[0].TeamLine() + "\n"
	fill := teamFileMax - len(line)
	file := strings.Repeat("#\n", fill/2) + line
	if fill%2 == 1 {
		file = strings.Repeat("#\n", fill/2-1) + "##\n" + line
	}
	if team, err := ParseTeam(strings.NewReader(file)); len(file) != teamFileMax || err != nil || len(team.Members) != 1 {
		t.Fatalf("a file of %d bytes: %v", len(file), err)
	}
}

func mustReadFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A team file is read from disk by LoadTeam, whose errors name the file
// (an operator has several) but not its contents; a line no member's could
// be, a name the team file cannot hold, and more members than a team has
// are refused with the line's number.
func TestLoadTeamErrors(t *testing.T) {
	ms, _ := testTeam(t, 1)
	f := strings.Fields(ms[0].TeamLine())
	keys := strings.Join(f[:len(f)-2], " ") // the name is "Lead 1"
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	if _, err := LoadTeam(filepath.Join(dir, "missing.txt")); err == nil || !strings.Contains(err.Error(), "failed to open team file") {
		t.Fatalf("a missing file: %v", err)
	}
	var many strings.Builder
	for i := range teamMembersMax + 1 {
		m, err := GenerateMember(fmt.Sprintf("Member %d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		many.WriteString(m.TeamLine() + "\n")
	}
	tests := []struct {
		name, content, want string
	}{
		{"too many members", many.String(), fmt.Sprintf("line %d: a team can have at most %d members", teamMembersMax+1, teamMembersMax)},
		{"name with a hash", "# team\n" + keys + " Lead # one\n", "line 2: a display name must be one line of text without '#'"},
		{"name too long", keys + " " + strings.Repeat("x", maxNameLen+1) + "\n", "line 1: a display name can be at most"},
		{"line longer than any member's", "# team\n" + keys + " " + strings.Repeat("y", 70<<10) + "\n", "line 2: the line is longer than 64 KiB; a member's line is about 2,000 characters, so this is not one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(strings.ReplaceAll(tt.name, " ", "-")+".txt", tt.content)
			_, err := LoadTeam(p)
			if err == nil || !strings.Contains(err.Error(), "team file "+p+": "+tt.want) {
				t.Fatalf("got %v\nwant %q", err, tt.want)
			}
			if strings.Contains(err.Error(), f[1][8:]) {
				t.Fatal("the error quotes key material")
			}
		})
	}
	// Exactly the most members a team can have is a team.
	lines := strings.SplitAfter(many.String(), "\n")
	team, err := LoadTeam(write("full.txt", strings.Join(lines[:teamMembersMax], "")))
	if err != nil || len(team.Members) != teamMembersMax {
		t.Fatalf("a full team: %v", err)
	}
}
