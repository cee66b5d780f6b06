package cases

import (
	"strings"
	"testing"
)

func TestSortCases(t *testing.T) {
	cs := []CaseSummary{
		{Case: "HK-ZZZZ-0001", Status: "new", Received: "2026-03-02"},
		{Case: "HK-0000-0009", Status: "new", Received: "2026-03-02"},
		{Case: "HK-0000-0007", Status: "new", Received: "2026-03-03"},                       // the newest, last of the new
		{Case: "HK-0000-0006", Status: "new", Danger: "yes"},                                // untriaged danger: first of all
		{Case: "HK-0000-0003", Status: "new", Urgency: "immediate", Received: "2026-03-01"}, // immediate, older
		{Case: "HK-0000-0002", Status: "triaged", Urgency: "high"},                          // after it
		{Case: "HK-0000-0004", Status: "triaged", Danger: "yes"},                            // triaged: its own urgency
		{Case: "HK-0000-0005", Status: "new", Urgency: "immediate", Received: "2026-03-04"}, // immediate, newer
		{Case: "HK-0000-0001", Status: "closed", Urgency: "immediate"},
	}
	sortCases(cs)
	var got []string
	for _, c := range cs {
		got = append(got, c.Case)
	}
	want := "HK-0000-0006 HK-0000-0003 HK-0000-0005 HK-0000-0002 HK-0000-0004 HK-0000-0009 HK-ZZZZ-0001 HK-0000-0007 HK-0000-0001"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("order %s\nwant  %s", s, want)
	}
}
