package desk

import (
	"strings"
	"testing"

	"github.com/hearken-project/hearken/reviewer/cases"
)

// TestSyncLinesBeforeJoining: a newcomer's sync says calmly which cases
// wait for a handover and who can give it; nothing is called damage.
func TestSyncLinesBeforeJoining(t *testing.T) {
	res := &cases.SyncResult{BeforeJoining: []string{"HK-7K3M-Q9XD"}, Colleagues: []string{"Ada Lead", "Ben Deputy"}, HandedOver: 2}
	text := strings.Join(syncLines(res), "\n")
	for _, want := range []string{"1 case has items sealed to the team before you joined it", "HK-7K3M-Q9XD",
		"(Ada Lead, Ben Deputy) can hand them over", "2 items handed over by colleagues."} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
	if strings.Contains(text, "Warning") || strings.Contains(text, "set aside") {
		t.Errorf("a newcomer is warned of damage:\n%s", text)
	}
}

// TestSyncLinesBeforeJoiningAll: the desk names every case that waits for
// a handover, however many.
func TestSyncLinesBeforeJoiningAll(t *testing.T) {
	res := &cases.SyncResult{}
	for i := range 12 {
		res.BeforeJoining = append(res.BeforeJoining, cases.CaseNumber(uint64(i+7)))
	}
	text := strings.Join(syncLines(res), "\n")
	want := "12 cases have items sealed to the team before you joined it, so your key cannot open them yet: " +
		strings.Join(res.BeforeJoining, ", ") + ". A colleague who was on the team then can hand them over"
	if !strings.Contains(text, want) || strings.Contains(text, "more") {
		t.Errorf("not every case, or more, in\n%s", text)
	}
}
