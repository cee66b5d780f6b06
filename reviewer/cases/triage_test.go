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
}
