package desk

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hearken-project/hearken/reviewer/cases"
)

// pageSize is how many cases one inbox page lists.
const pageSize = 100

var errLocked = errors.New("the desk locked")

type option struct {
	Value, Label string
	Selected     bool
}

type inboxRow struct {
	URL, Case                          string
	DangerNow, Unanswered              bool
	Problems                           int
	Waiting, Status, Category, Urgency string
	Assigned, Route, Received, Preview string
}

type inboxView struct {
	NoStore, NoServer bool
	Danger            string
	DangerCount       int
	Q                 string
	StatusOptions     []option
	CategoryOptions   []option
	RouteOptions      []option
	AssignedOptions   []option
	OnlyDanger        bool
	OnlyUnanswered    bool
	Filtered          bool
	Count             string
	Rows              []inboxRow
	Page, Pages       int
	Prev, Next        string
}

// dangerNow reports a case whose reporter said someone is in danger now.
func dangerNow(cs cases.CaseSummary) bool { return cs.DangerNow }

// inboxFilter is the inbox's query.
type inboxFilter struct {
	status, category, route, assigned, q string
	danger, unanswered                   bool
	page                                 int
}

func parseFilter(q url.Values) inboxFilter {
	f := inboxFilter{
		status: q.Get("status"), category: q.Get("category"), route: q.Get("route"),
		assigned: q.Get("assigned"), q: strings.TrimSpace(q.Get("q")),
		danger: q.Get("danger") != "", unanswered: q.Get("unanswered") != "",
	}
	f.page, _ = strconv.Atoi(q.Get("page"))
	f.page = max(f.page, 1)
	return f
}

func (f inboxFilter) filtered() bool {
	return f.status != "" || f.category != "" || f.route != "" || f.assigned != "" || f.q != "" || f.danger || f.unanswered
}

// keep reports whether a case passes every filter but the search.
func (f inboxFilter) keep(cs *cases.CaseSummary) bool {
	switch f.status {
	case "":
		if cs.Status == "closed" {
			return false
		}
	case "all":
	default:
		if cs.Status != f.status {
			return false
		}
	}
	switch f.category {
	case "":
	case "none":
		if cs.Category != "" {
			return false
		}
	default:
		if cs.Category != f.category {
			return false
		}
	}
	if f.route != "" && cs.Route != f.route {
		return false
	}
	switch f.assigned {
	case "":
	case "nobody":
		if cs.Assigned != "" {
			return false
		}
	default:
		if cs.Assigned != f.assigned {
			return false
		}
	}
	return (!f.danger || cs.DangerNow) && (!f.unanswered || cs.Unanswered)
}

// query returns the filter as a URL query, on page.
func (f inboxFilter) query(page int) string {
	v := url.Values{}
	for k, s := range map[string]string{"status": f.status, "category": f.category, "route": f.route, "assigned": f.assigned, "q": f.q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.danger {
		v.Set("danger", "1")
	}
	if f.unanswered {
		v.Set("unanswered", "1")
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/"
	}
	return "/?" + v.Encode()
}

func (d *Desk) inbox(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		d.failure(w, r, http.StatusNotFound, "Not found", "There is no such page in the desk.")
		return
	}
	u, release := d.acquire()
	if u == nil {
		d.showUnlock(w, r, "", false)
		return
	}
	defer release()
	v := d.page(r, "Inbox", "inbox")
	iv, err := d.inboxView(u, parseFilter(r.URL.Query()))
	if err != nil {
		d.storeFailure(w, r, err)
		return
	}
	v.Body = iv
	d.pages.render(w, http.StatusOK, "inbox", v)
}

func (d *Desk) inboxView(u *unlocked, f inboxFilter) (*inboxView, error) {
	iv := &inboxView{Q: f.q, OnlyDanger: f.danger, OnlyUnanswered: f.unanswered, Filtered: f.filtered()}
	if u.st == nil {
		cfg, _ := cases.LoadConfig(d.opts.Store)
		iv.NoStore, iv.NoServer = true, cfg.Server == ""
		return iv, nil
	}
	all, err := u.cache.cases(u.st, d.now())
	if err != nil {
		return nil, err
	}
	var found map[string]bool
	if f.q != "" {
		if found, err = u.cache.matching(u.st, all, f.q); err != nil {
			return nil, err
		}
	}
	routes, assignees := map[string]bool{}, map[string]bool{}
	var kept []*cases.CaseSummary
	for i := range all {
		cs := &all[i]
		routes[cs.Route] = true
		if cs.Assigned != "" {
			assignees[cs.Assigned] = true
		}
		if cs.DangerNow && cs.Status == "new" {
			iv.DangerCount++
		}
		if f.keep(cs) && (found == nil || found[cs.Case]) {
			kept = append(kept, cs)
		}
	}
	if iv.DangerCount > 0 {
		iv.Danger = plural(iv.DangerCount, "report says", "reports say") + " someone may be in danger now, and " +
			map[bool]string{true: "has", false: "have"}[iv.DangerCount == 1] + " not been triaged yet."
	}
	iv.StatusOptions = options(f.status, []option{{Value: "", Label: "Open (not closed)"}, {Value: "all", Label: "All"}}, cases.Statuses, nil)
	iv.CategoryOptions = options(f.category, []option{{Value: "", Label: "Any"}, {Value: "none", Label: "Not set yet"}}, cases.Categories, nil)
	iv.RouteOptions = options(f.route, []option{{Value: "", Label: "Any"}}, sortedKeys(routes), nil)
	iv.AssignedOptions = options(f.assigned, []option{{Value: "", Label: "Anyone"}, {Value: "nobody", Label: "Nobody yet"}}, sortedKeys(assignees), nil)

	iv.Pages = max(1, (len(kept)+pageSize-1)/pageSize)
	iv.Page = min(f.page, iv.Pages)
	from := (iv.Page - 1) * pageSize
	to := min(from+pageSize, len(kept))
	switch {
	case len(kept) == 0 && len(all) == 0:
		iv.Count = "No cases yet. New reports appear here after a sync."
	case len(kept) == 0:
		iv.Count = "No cases match. Change the filters, or choose Clear."
	case iv.Pages == 1:
		iv.Count = "Showing " + plural(len(kept), "case", "cases") + ", most pressing first."
	default:
		iv.Count = fmt.Sprintf("Showing cases %d to %d of %d, most pressing first.", from+1, to, len(kept))
	}
	if iv.Page > 1 {
		iv.Prev = f.query(iv.Page - 1)
	}
	if iv.Page < iv.Pages {
		iv.Next = f.query(iv.Page + 1)
	}
	iv.Rows = make([]inboxRow, 0, to-from)
	for _, cs := range kept[from:to] {
		iv.Rows = append(iv.Rows, row(*cs))
	}
	return iv, nil
}

func row(cs cases.CaseSummary) inboxRow {
	waiting := "Answered"
	if cs.Unanswered {
		waiting = "Waiting " + plural(cs.WaitingDays, "day", "days")
		if cs.WaitingDays == 0 {
			waiting = "Waiting since today"
		}
	}
	if cs.Queued > 0 {
		waiting += " (reply to send)"
	}
	return inboxRow{
		URL: "/case/" + cs.Case, Case: cs.Case, DangerNow: dangerNow(cs), Unanswered: cs.Unanswered,
		Problems: cs.Problems, Waiting: waiting, Status: cs.Status, Category: or(cs.Category, "not set"),
		Urgency: or(cs.Urgency, "not set"), Assigned: or(cs.Assigned, "nobody"), Route: cs.Route,
		Received: cs.Received, Preview: cs.Preview,
	}
}

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// options makes a select's options: first the fixed ones, then one per
// value, marking the selected one.
func options(selected string, first []option, values []string, labels map[string]string) []option {
	out := slices.Clone(first)
	for _, v := range values {
		out = append(out, option{Value: v, Label: or(labels[v], v)})
	}
	for i := range out {
		out[i].Selected = out[i].Value == selected
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
