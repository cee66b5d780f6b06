package reviewer

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

// oneMany finds a count of one with a plural noun ("1 items", "1 new
// cases", "1 replies") and "a" before a vowel ("a urgency").
var oneMany = regexp.MustCompile(`\b1 (new )?[a-z-]+s\b|\ba [aeiou]`)

// TestPlurals prints every message that carries a count, for 0, 1 and 2,
// and checks each reads right.
func TestPlurals(t *testing.T) {
	for _, n := range []int{0, 1, 2} {
		res := &cases.SyncResult{
			Received: 4 * n, Pushed: n, Failed: n, Acked: n, Undeliverable: n, UpdatesSent: n, UpdatesWaiting: n,
			KindCount: map[string]int{string(vault.KindReport): n, string(vault.KindFollowUp): n, string(vault.KindReply): n,
				string(vault.KindEvent): n},
		}
		for i := range n {
			res.NewCases = append(res.NewCases, cases.CaseNumber(uint64(i+1)))
			res.SetAside = append(res.SetAside, cases.SetAsideItem{Case: "HK-0001", Reason: "it is incomplete"})
			res.NotDelivered = append(res.NotDelivered, cases.NotDelivered{Case: "HK-0001", Reason: "gone"})
			res.BeforeJoining = append(res.BeforeJoining, cases.CaseNumber(uint64(i+7)))
		}
		res.HandedOver, res.Colleagues = n, []string{"Ada Lead", "Ben Deputy"}
		var out bytes.Buffer
		c := &cli{stdout: &out, stderr: &out}
		c.printSync(res)
		cv := &cases.CaseView{Messages: []cases.Message{{Kind: vault.KindReport,
			Attachments: []cases.AttachmentInfo{{Name: "attachment-1.txt", Type: "text/plain", Size: n}}}}}
		cv.UpdatesQueued = n
		cv.LocalOnly = []string{"status", "urgency"}[:n]
		writeCase(&out, cv)
		text := out.String()
		if m := oneMany.FindString(text); m != "" {
			t.Errorf("n=%d: %q in\n%s", n, m, text)
		}
		if n == 1 {
			for _, want := range []string{"Received 4 new items (1 report, 1 follow-up", "1 reply from a colleague", "1 new case",
				"Sent 1 reply.", "1 reply could not be delivered", "1 item set aside", "1 byte", "1 case update from a colleague",
				"Sent 1 case update to the team.", "1 case update is still waiting",
				"1 case has items sealed to the team before you joined it", "(Ada Lead, Ben Deputy) can hand them over",
				"Received 1 item that colleagues handed over.", "1 change is waiting", "colleagues do not see it",
				"Warning: the server holds 1 item for you that it cannot send: its queue is damaged."} {
				if !strings.Contains(text, want) {
					t.Errorf("n=1: no %q in\n%s", want, text)
				}
			}
		}
	}
	if _, err := cases.ParseCaseNumber("x"); err != nil && oneMany.MatchString(err.Error()) {
		t.Error(err)
	}
	if err := (cases.TriageChange{Urgency: "urgent"}).Check(); err == nil || !strings.Contains(err.Error(), "not an urgency") {
		t.Errorf("urgency: %v", err)
	}
	if err := (cases.TriageChange{Status: "x"}).Check(); err == nil || !strings.Contains(err.Error(), "not a status") {
		t.Errorf("status: %v", err)
	}
	if err := (cases.TriageChange{Category: "x"}).Check(); err == nil || !strings.Contains(err.Error(), "not a category") {
		t.Errorf("category: %v", err)
	}
}
