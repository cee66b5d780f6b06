package desk

import (
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/hearken-project/hearken/reviewer/cases"
)

// Statistics for the school's annual safeguarding plan, computed here on
// the lead's computer from the case store and sent nowhere: reports per
// month and per category, the time to a first response, and open cases by
// status.

// stat is one labelled figure of a chart or table.
type stat struct {
	Label string
	Value int
}

type statsData struct {
	From, To     time.Time // first day of the first and of the last month
	Reports      int
	PerMonth     []stat
	PerCategory  []stat
	Answered     int
	Unanswered   int
	Median, P90  float64 // days; NaN when nothing was answered
	OpenByStatus []stat
	Closed       int
	OpenTotal    int
	NoReport     int // cases whose report never reached this computer
}

// period reads ?from=YYYY-MM&to=YYYY-MM; by default the last twelve
// months, this one included.
func period(from, to string, now time.Time) (time.Time, time.Time, error) {
	cur := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	f, t := cur.AddDate(0, -11, 0), cur
	var err error
	if from != "" {
		if f, err = time.Parse("2006-01", from); err != nil {
			return f, t, errors.New("the first month must look like 2025-09")
		}
	}
	if to != "" {
		if t, err = time.Parse("2006-01", to); err != nil {
			return f, t, errors.New("the last month must look like 2026-08")
		}
	}
	if t.Before(f) {
		return f, t, errors.New("the first month is after the last")
	}
	if t.Sub(f) > 10*366*24*time.Hour {
		return f, t, errors.New("choose at most ten years")
	}
	return f, t, nil
}

// computeStats gathers the figures for the months from..to.
func computeStats(list []cases.CaseSummary, firsts []cases.FirstResponse, from, to time.Time) *statsData {
	sd := &statsData{From: from, To: to}
	end := to.AddDate(0, 1, 0)
	byCase := map[string]cases.FirstResponse{}
	for _, fr := range firsts {
		byCase[fr.Case] = fr
	}
	months := map[string]int{}
	for m := from; m.Before(end); m = m.AddDate(0, 1, 0) {
		months[m.Format("2006-01")] = 0
	}
	cats := map[string]int{}
	var waits []float64
	status := map[string]int{}
	for _, cs := range list {
		if cs.Status == "closed" {
			sd.Closed++
		} else {
			status[cs.Status]++
			sd.OpenTotal++
		}
		fr := byCase[cs.Case]
		if fr.Reported == "" {
			sd.NoReport++
			continue
		}
		day, err := time.Parse("2006-01-02", fr.Reported)
		if err != nil || day.Before(from) || !day.Before(end) {
			continue
		}
		sd.Reports++
		months[day.Format("2006-01")]++
		cats[or(cs.Category, "not set yet")]++
		if fr.Replied == "" {
			sd.Unanswered++
			continue
		}
		if r, err := time.Parse("2006-01-02", fr.Replied); err == nil {
			waits = append(waits, max(0, math.Round(r.Sub(day).Hours()/24)))
			sd.Answered++
		}
	}
	for m := from; m.Before(end); m = m.AddDate(0, 1, 0) {
		sd.PerMonth = append(sd.PerMonth, stat{m.Format("Jan 2006"), months[m.Format("2006-01")]})
	}
	for _, c := range append(slices.Clone(cases.Categories), "not set yet") {
		if cats[c] > 0 {
			sd.PerCategory = append(sd.PerCategory, stat{c, cats[c]})
		}
	}
	for _, s := range cases.Statuses {
		if s != "closed" {
			sd.OpenByStatus = append(sd.OpenByStatus, stat{s, status[s]})
		}
	}
	sd.Median, sd.P90 = percentile(waits, 0.5), percentile(waits, 0.9)
	return sd
}

// percentile returns the p-th percentile of xs by the nearest-rank
// method; the median of an even count is the mean of the middle two.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if p == 0.5 && len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// days says a number of days in words.
func days(d float64) string {
	if math.IsNaN(d) {
		return "no replies yet"
	}
	if d == math.Trunc(d) {
		return plural(int(d), "day", "days")
	}
	return strconv.FormatFloat(d, 'f', 1, 64) + " days"
}

type statsView struct {
	*statsData
	FromValue, ToValue  string
	Period              string
	Error               string
	MedianText, P90Text string
	MonthChart          chart
	CategoryChart       chart
	StatusChart         chart
	CSV                 string
}

func (d *Desk) statsFor(w http.ResponseWriter, r *http.Request) (*statsData, string, bool) {
	u, release := d.acquire()
	if u == nil {
		d.showUnlock(w, r, "", false)
		return nil, "", false
	}
	defer release()
	from, to, err := period(r.URL.Query().Get("from"), r.URL.Query().Get("to"), d.now())
	if err != nil {
		from, to, _ = period("", "", d.now())
		return &statsData{From: from, To: to, Median: math.NaN(), P90: math.NaN()}, "Showing the last twelve months: " + err.Error() + ".", true
	}
	if u.st == nil {
		return computeStats(nil, nil, from, to), "", true
	}
	list, err := u.cache.cases(u.st, d.now())
	if err != nil {
		d.storeFailure(w, r, err)
		return nil, "", false
	}
	firsts, err := u.st.FirstResponses()
	if err != nil {
		d.storeFailure(w, r, err)
		return nil, "", false
	}
	return computeStats(list, firsts, from, to), "", true
}

func (d *Desk) stats(w http.ResponseWriter, r *http.Request) {
	sd, problem, ok := d.statsFor(w, r)
	if !ok {
		return
	}
	v := d.page(r, "Statistics", "stats")
	sv := &statsView{
		statsData: sd, Error: problem,
		FromValue: sd.From.Format("2006-01"), ToValue: sd.To.Format("2006-01"),
		Period:     sd.From.Format("January 2006") + " to " + sd.To.Format("January 2006"),
		MedianText: days(sd.Median), P90Text: days(sd.P90),
	}
	sv.CSV = "/stats.csv?from=" + sv.FromValue + "&to=" + sv.ToValue
	sv.MonthChart = columns("chart-months", "Reports received per month, "+sv.Period, sd.PerMonth)
	sv.CategoryChart = rows("chart-categories", "Reports by category, "+sv.Period, sd.PerCategory)
	sv.StatusChart = rows("chart-status", "Open cases by status, today", sd.OpenByStatus)
	v.Body = sv
	d.pages.render(w, http.StatusOK, "stats", v)
}

// statsCSV writes the same figures as the page, for a spreadsheet.
func (d *Desk) statsCSV(w http.ResponseWriter, r *http.Request) {
	sd, problem, ok := d.statsFor(w, r)
	if !ok {
		return
	}
	if problem != "" {
		d.failure(w, r, http.StatusBadRequest, "Choose the months again", problem)
		return
	}
	from, to := sd.From.Format("2006-01"), sd.To.Format("2006-01")
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="hearken-statistics-%s-to-%s.csv"`, from, to))
	cw := csv.NewWriter(w)
	row := func(measure, label string, value string) { cw.Write([]string{measure, cellSafe(label), value}) }
	num := func(f float64) string {
		if math.IsNaN(f) {
			return ""
		}
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	cw.Write([]string{"measure", "label", "value"})
	row("period", "first month", from)
	row("period", "last month", to)
	row("reports", "received in the period", strconv.Itoa(sd.Reports))
	for _, s := range sd.PerMonth {
		row("reports per month", s.Label, strconv.Itoa(s.Value))
	}
	for _, s := range sd.PerCategory {
		row("reports per category", s.Label, strconv.Itoa(s.Value))
	}
	row("days to first response", "median", num(sd.Median))
	row("days to first response", "90th percentile", num(sd.P90))
	row("days to first response", "reports answered", strconv.Itoa(sd.Answered))
	row("days to first response", "reports not yet answered", strconv.Itoa(sd.Unanswered))
	for _, s := range sd.OpenByStatus {
		row("open cases by status today", s.Label, strconv.Itoa(s.Value))
	}
	row("cases today", "closed", strconv.Itoa(sd.Closed))
	cw.Flush()
}

// cellSafe keeps a spreadsheet from reading a cell as a formula.
func cellSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
