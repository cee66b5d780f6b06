package cases

import (
	"strings"
	"testing"
)

func TestSortCases(t *testing.T) {
	cs := []CaseSummary{
		{Case: "HK-10000", Status: "new"},
		{Case: "HK-9999", Status: "new"},
		{Case: "HK-0006", Status: "new", Danger: "yes"},        // untriaged danger: first of all
		{Case: "HK-0003", Status: "new", Urgency: "immediate"}, // immediate
		{Case: "HK-0002", Status: "triaged", Urgency: "high"},  // after it
		{Case: "HK-0004", Status: "triaged", Danger: "yes"},    // triaged: its own urgency
		{Case: "HK-0005", Status: "new", Urgency: "immediate"}, // immediate, older number second
		{Case: "HK-0001", Status: "closed", Urgency: "immediate"},
	}
	sortCases(cs)
	var got []string
	for _, c := range cs {
		got = append(got, c.Case)
	}
	if s := strings.Join(got, " "); s != "HK-0006 HK-0003 HK-0005 HK-0002 HK-0004 HK-9999 HK-10000 HK-0001" {
		t.Errorf("order %s", s)
	}
}
