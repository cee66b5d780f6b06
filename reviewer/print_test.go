package reviewer

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

// TestPrintedStringsCleaned shows show and list print nothing a terminal
// would act on, whichever field carries it.
func TestPrintedStringsCleaned(t *testing.T) {
	evil := "x\x1b]0;owned\x07\u202egnp.exe\u200b"
	cv := &cases.CaseView{
		CaseSummary: cases.CaseSummary{Case: "HK-7K3M-Q9XD", Tag: "3f2a9c1d", Route: evil, Status: evil, Category: evil,
			Urgency: evil, Assigned: evil, Received: evil, Preview: evil, Handling: []string{evil}, Conflicts: []string{evil},
			Former: evil},
		Notice: evil, KeyProblem: evil,
		Messages: []cases.Message{{Kind: vault.Kind(evil), Day: evil, Author: evil, State: evil, Problem: evil,
			Note: evil, Fields: []vault.Field{{Name: evil, Value: evil}},
			Attachments: []cases.AttachmentInfo{{Name: evil, Type: evil}}}},
		Chronology: []cases.ChronoLine{{Day: evil, Who: evil, What: evil, Text: evil, State: evil, Local: true}},
	}
	var b strings.Builder
	writeCase(&b, cv)
	if err := writeList(&b, []cases.CaseSummary{cv.CaseSummary}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, r := range out {
		if r != '\n' && cases.UnsafeRune(r) {
			t.Fatalf("printed %U: %q", r, out)
		}
	}
	if !strings.Contains(out, "HK-7K3M-Q9XD") {
		t.Errorf("no case number in %q", out)
	}
}

// BenchmarkWriteList10k prints a list of 10,000 cases, the part of
// reviewer list after the store's List (which cmd/reviewer's
// BenchmarkSyncDecryptList10k measures).
func BenchmarkWriteList10k(b *testing.B) {
	all := make([]cases.CaseSummary, 10000)
	for i := range all {
		all[i] = cases.CaseSummary{Case: cases.CaseNumber(uint64(i + 1)), Tag: "3f2a9c1d", Status: "new",
			Received: "2026-03-01", Unanswered: true, WaitingDays: 9, Preview: "report: someone at school is being hurt and needs help"}
	}
	for b.Loop() {
		if err := writeList(io.Discard, all); err != nil {
			b.Fatal(err)
		}
	}
}

// TestJSONEscapesUnsafe shows --json writes no character a terminal would
// act on (C1 controls such as U+009B, bidi overrides and isolates, other
// invisible format characters, DEL), whichever field carries it, and that
// a script still reads back exactly what was sent.
func TestJSONEscapesUnsafe(t *testing.T) {
	evil := "x\x1b]0;owned\x07\u009b2J\u202egnp.exe\u2066i\u2069\u200b\u2028\u2029\u00ad\x7f\U000e0001é"
	cv := &cases.CaseView{
		CaseSummary: cases.CaseSummary{Case: "HK-0001", Route: evil, Preview: evil, Danger: evil},
		Notice:      evil,
		Messages:    []cases.Message{{Author: evil, Fields: []vault.Field{{Name: evil, Value: evil}}}},
	}
	var b strings.Builder
	if err := writeJSON(&b, cv); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, r := range out {
		if r != '\n' && cases.UnsafeRune(r) {
			t.Fatalf("--json printed %U raw: %q", r, out)
		}
	}
	var back cases.CaseView
	if err := json.Unmarshal([]byte(out), &back); err != nil {
		t.Fatal(err)
	}
	if back.Route != evil || back.Notice != evil || back.Messages[0].Fields[0].Value != evil || back.Messages[0].Author != evil {
		t.Errorf("--json changed the text: %q", out)
	}
}

// TestPrintSyncBeforeJoining: sync names at most ten cases that wait for a
// handover and counts the rest, and a colleague's name from a team file
// reaches the terminal cleaned.
func TestPrintSyncBeforeJoining(t *testing.T) {
	res := &cases.SyncResult{KindCount: map[string]int{}, Colleagues: []string{"Ada\x1b]0;owned\x07 Lead", "Ben Deputy"}}
	for i := range 12 {
		res.BeforeJoining = append(res.BeforeJoining, cases.CaseNumber(uint64(i+7)))
	}
	var b strings.Builder
	c := &cli{stdout: &b, stderr: &b}
	c.printSync(res)
	out := b.String()
	want := "12 cases have items sealed to the team before you joined it, so your key cannot open them yet: " +
		strings.Join(res.BeforeJoining[:10], ", ") + " and 2 more. A colleague who was on the team then (Ada"
	if !strings.Contains(out, want) || strings.Contains(out, res.BeforeJoining[10]) ||
		!strings.Contains(out, "Ben Deputy) can hand them over to you with reviewer handover CASE (or --all); you can read them after their next reviewer sync and yours.\n") {
		t.Errorf("got\n%s", out)
	}
	for _, r := range out {
		if r != '\n' && cases.UnsafeRune(r) {
			t.Fatalf("printed %U: %q", r, out)
		}
	}
}
