package cases

import (
	"strings"
	"testing"
)

func TestTriageWords(t *testing.T) {
	for in, want := range map[string]string{"In-Progress": "in progress", "in_progress": "in progress", "CLOSED": "closed"} {
		if got, err := parseStatus(in); err != nil || got != want {
			t.Errorf("parseStatus(%q) = %q, %v", in, got, err)
		}
	}
	if got, _ := parseCategory("self-harm"); got != "self-harm or suicide risk" {
		t.Errorf("prefix: %q", got)
	}
	if _, err := parseUrgency("urgent"); err == nil || !strings.Contains(err.Error(), "immediate") {
		t.Errorf("bad urgency: %v", err)
	}
	for in, want := range map[string]uint64{"HK-0007": 7, "hk7": 7, "12": 12, "#3": 3} {
		if got, err := ParseCaseNumber(in); err != nil || got != want {
			t.Errorf("ParseCaseNumber(%q) = %d, %v", in, got, err)
		}
	}
	if _, err := ParseCaseNumber("HK-0000"); err == nil {
		t.Error("case 0 accepted")
	}
}
