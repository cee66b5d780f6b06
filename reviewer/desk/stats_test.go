package desk

import (
	"encoding/csv"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

func TestComputeStats(t *testing.T) {
	list := []cases.CaseSummary{
		{Case: "HK-0000-0001", Status: "closed", Category: "bullying"},
		{Case: "HK-0000-0002", Status: "new"},
		{Case: "HK-0000-0003", Status: "in progress", Category: "bullying"},
		{Case: "HK-0000-0004", Status: "triaged", Category: "neglect"},
		{Case: "HK-0000-0005", Status: "new"}, // before the period
		{Case: "HK-0000-0006", Status: "new"}, // no report here
		{Case: "HK-0000-0007", Status: "referred", Category: "neglect"},
	}
	firsts := []cases.FirstResponse{
		{Case: "HK-0000-0001", Reported: "2025-09-03", Replied: "2025-09-04"},
		{Case: "HK-0000-0002", Reported: "2025-09-20"},
		{Case: "HK-0000-0003", Reported: "2025-11-01", Replied: "2025-11-11"},
		{Case: "HK-0000-0004", Reported: "2026-08-31", Replied: "2026-09-02"},
		{Case: "HK-0000-0005", Reported: "2025-08-31", Replied: "2025-09-30"},
		{Case: "HK-0000-0006"},
		{Case: "HK-0000-0007", Reported: "2026-02-10", Replied: "2026-02-10"},
	}
	from, to, err := period("2025-09", "2026-08", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sd := computeStats(list, firsts, from, to)
	if sd.Reports != 5 || sd.Answered != 4 || sd.Unanswered != 1 || sd.NoReport != 1 || sd.Closed != 1 || sd.OpenTotal != 6 {
		t.Errorf("%+v", sd)
	}
	// Waits 1, 10, 2, 0: median 1.5, 90th percentile 10.
	if sd.Median != 1.5 || sd.P90 != 10 {
		t.Errorf("median %v, p90 %v", sd.Median, sd.P90)
	}
	if len(sd.PerMonth) != 12 || sd.PerMonth[0] != (stat{"Sep 2025", 2}) || sd.PerMonth[2] != (stat{"Nov 2025", 1}) || sd.PerMonth[11] != (stat{"Aug 2026", 1}) {
		t.Errorf("months %v", sd.PerMonth)
	}
	want := []stat{{"bullying", 2}, {"neglect", 2}, {"not set yet", 1}}
	if len(sd.PerCategory) != 3 || sd.PerCategory[0] != want[0] || sd.PerCategory[1] != want[1] || sd.PerCategory[2] != want[2] {
		t.Errorf("categories %v", sd.PerCategory)
	}
	if sd.OpenByStatus[0] != (stat{"new", 3}) || sd.OpenByStatus[3] != (stat{"referred", 1}) || len(sd.OpenByStatus) != 4 {
		t.Errorf("status %v", sd.OpenByStatus)
	}
	if !math.IsNaN(percentile(nil, 0.5)) || percentile([]float64{3, 1, 2}, 0.5) != 2 || percentile([]float64{5}, 0.9) != 5 {
		t.Error("percentile")
	}
	for _, bad := range [][2]string{{"2025-13", ""}, {"", "x"}, {"2026-05", "2026-04"}, {"1990-01", "2026-01"}} {
		if _, _, err := period(bad[0], bad[1], time.Now()); err == nil {
			t.Errorf("period %v accepted", bad)
		}
	}
}

// TestStatsPage draws the charts with titles and text equivalents, and
// offers the same figures as CSV.
func TestStatsPage(t *testing.T) {
	f := newFixture(t)
	th := f.report("message", "one")
	f.item(th, vault.KindReply, f.daysAgo(5), nil, "message", "we are here")
	f.report("message", "two")
	f.open()
	f.follow(f.post("/case/HK-0000-0001/triage", url.Values{"category": {"bullying"}}))
	rec := f.get("/stats")
	wantBody(t, rec, http.StatusOK, `<span class="n">2</span> reports received`, `<span class="n">3 days</span> typical time`,
		`role="img" aria-labelledby="chart-months-t chart-months-d"`, `<title id="chart-months-t">Reports received per month`,
		`<desc id="chart-categories-d">bullying: 1; not set yet: 1.</desc>`, `Open cases by status, today`,
		`href="/stats.csv\?from=\d{4}-\d\d&amp;to=\d{4}-\d\d"`, `The same figures as a table`)
	wantBody(t, f.get("/stats?from=2026-13"), http.StatusOK, "the first month must look like")
	cv := f.get("/stats.csv?from=" + f.now().AddDate(0, -11, 0).Format("2006-01") + "&to=" + f.now().Format("2006-01"))
	if cv.Code != 200 || !strings.HasPrefix(cv.Header().Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(cv.Header().Get("Content-Disposition"), `attachment; filename="hearken-statistics-`) {
		t.Fatalf("csv: %d %v", cv.Code, cv.Header())
	}
	records, err := csv.NewReader(cv.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range records {
		got[r[0]+"/"+r[1]] = r[2]
	}
	if got["reports/received in the period"] != "2" || got["days to first response/median"] != "3" ||
		got["reports per category/bullying"] != "1" || got["open cases by status today/new"] != "1" || got["open cases by status today/triaged"] != "1" {
		t.Errorf("csv: %v", got)
	}
	if cellSafe("=cmd") != "'=cmd" || cellSafe("bullying") != "bullying" {
		t.Error("cellSafe")
	}
}
