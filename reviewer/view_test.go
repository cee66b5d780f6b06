package reviewer

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

func TestSafeFileName(t *testing.T) {
	for in, want := range map[string]string{
		"photo.jpg":           "photo.jpg",
		"../../etc/passwd":    "passwd",
		`..\..\boot.ini`:      "boot.ini",
		".hidden":             "hidden",
		"":                    "attachment",
		"..":                  "attachment",
		"report\u202egnp.exe": "report_gnp.exe",
		"my notes (1).txt":    "my_notes__1_.txt",
		"café.png":            "café.png",
	} {
		if got := safeFileName(in); got != want {
			t.Errorf("safeFileName(%q) = %q, want %q", in, got, want)
		}
	}
	long := safeFileName(string(make([]byte, 500)) + ".txt")
	if len(long) > 81 {
		t.Errorf("long name kept %d bytes", len(long))
	}
}

func TestClean(t *testing.T) {
	in := "a\x1b[2Jb\u202ec\u2066d\u200be\x9bf\x7fg\th\ni\u2028j\xff"
	got := clean(in)
	for _, r := range got {
		if unsafeRune(r) || r == '\t' || r == '\n' {
			t.Errorf("clean left %U in %q", r, got)
		}
	}
	if want := "a\uFFFD[2Jb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\uFFFDg h i\uFFFDj\uFFFD"; got != want {
		t.Errorf("clean(%q) = %q, want %q", in, got, want)
	}
	if clean("Dana Lead — é") != "Dana Lead — é" {
		t.Error("clean changed a plain string")
	}
}

// TestPrintedStringsCleaned shows show and list print nothing a terminal
// would act on, whichever field carries it.
func TestPrintedStringsCleaned(t *testing.T) {
	evil := "x\x1b]0;owned\x07\u202egnp.exe\u200b"
	cv := &CaseView{
		CaseSummary: CaseSummary{Case: "HK-0001", Tag: "3f2a9c1d", Route: evil, Status: evil, Category: evil,
			Urgency: evil, Assigned: evil, Received: evil, Preview: evil},
		Notice: evil,
		Messages: []Message{{Kind: vault.Kind(evil), Day: evil, Author: evil, State: evil, Problem: evil,
			Fields:      []vault.Field{{Name: evil, Value: evil}},
			Attachments: []AttachmentInfo{{Name: evil, Type: evil}}}},
		Chronology: []ChronoLine{{Day: evil, Who: evil, What: evil, Text: evil}},
	}
	var b strings.Builder
	WriteCase(&b, cv)
	if err := WriteList(&b, []CaseSummary{cv.CaseSummary}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, r := range out {
		if r != '\n' && unsafeRune(r) {
			t.Fatalf("printed %U: %q", r, out)
		}
	}
	if !strings.Contains(out, "#3f2a9c1d") {
		t.Errorf("no thread tag in %q", out)
	}
}

func TestRouteNames(t *testing.T) {
	for route, ok := range map[string]bool{"students": true, "head-of-school": true, "a": true, "9": true,
		"": false, "Students": false, "-x": false, "a_b": false, "a b": false, strings.Repeat("a", 33): false,
		strings.Repeat("a", 32): true, "x\x1b": false, "x\u202e": false} {
		it := staff.Item{Seq: 1, ID: uuid.NewString(), Thread: uuid.NewString(), Route: route,
			Kind: vault.KindReport, Day: "2026-03-01", Sealed: []byte("x")}
		if err := checkWireItem(it); (err == nil) != ok {
			t.Errorf("route %q: %v", route, err)
		}
	}
}

func TestSortCases(t *testing.T) {
	cs := []CaseSummary{
		{Case: "HK-10000", Status: "new"},
		{Case: "HK-9999", Status: "new"},
		{Case: "HK-0003", Status: "new", Danger: "yes"},        // untriaged danger: immediate
		{Case: "HK-0002", Status: "triaged", Urgency: "high"},  // after it
		{Case: "HK-0004", Status: "triaged", Danger: "yes"},    // triaged: its own urgency
		{Case: "HK-0005", Status: "new", Urgency: "immediate"}, // immediate, older number second
		{Case: "HK-0001", Status: "closed", Urgency: "immediate"},
	}
	SortCases(cs)
	var got []string
	for _, c := range cs {
		got = append(got, c.Case)
	}
	if s := strings.Join(got, " "); s != "HK-0003 HK-0005 HK-0002 HK-0004 HK-9999 HK-10000 HK-0001" {
		t.Errorf("order %s", s)
	}
}
