package cases

import (
	"strings"
	"testing"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// TestFollowUpWithoutReport shows a case whose report never reached this
// computer says so, in show and in reply.
func TestFollowUpWithoutReport(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	if _, err := f.st.storeItems([]staff.Item{f.item(t, th, vault.KindFollowUp, "2026-03-02", "message", "more")}); err != nil {
		t.Fatal(err)
	}
	cv, err := f.st.Show(1)
	if err != nil {
		t.Fatal(err)
	}
	tag := strings.ReplaceAll(th, "-", "")[:8]
	if cv.Tag != tag || !strings.Contains(cv.Notice, "never reached this computer") || !strings.Contains(cv.Notice, "export-sealed HK-0000-0001") {
		t.Errorf("show: tag %q, notice %q", cv.Tag, cv.Notice)
	}
	if _, err := f.st.Reply(1, "hello", f.team); err == nil || !strings.Contains(err.Error(), "never reached this computer") {
		t.Errorf("reply: %v", err)
	}
	if cs, _ := f.st.List(); cs[0].Tag != tag {
		t.Errorf("list tag %q", cs[0].Tag)
	}
}
