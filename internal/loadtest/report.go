package loadtest

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Goals the public site is held to.
const (
	GoalConcurrency = 64
	GoalRate        = 800 // accepted submissions per second at GoalConcurrency
	GoalP99         = 150 * time.Millisecond
)

// Goals under a slowloris attack of SiegeConns connections: every ordinary
// request is answered, in time, and the server's memory stays bounded.
const (
	SiegeConns  = 1000
	SiegeP99    = time.Second
	SiegeMaxRSS = 200 << 20
)

// JudgeSiege compares the ordinary reporters' figures under a slowloris
// attack with the goals: no failed request, p99 of reports and checks
// under SiegeP99, and the server's peak memory (if measured) at most
// SiegeMaxRSS, with at least SiegeConns connections held open.
func JudgeSiege(levels []*Level, st SlowlorisStats) Verdict {
	v := Verdict{Goal: fmt.Sprintf("under %d slowloris connections, every request answered, p99 < %s, server memory <= %d MiB",
		SiegeConns, SiegeP99, SiegeMaxRSS>>20)}
	if st.Peak < SiegeConns {
		v.Reasons = append(v.Reasons, fmt.Sprintf("only %d slowloris connections open at once, goal %d", st.Peak, SiegeConns))
	}
	for _, l := range levels {
		if n := l.ErrorCount(); n > 0 {
			v.Reasons = append(v.Reasons, fmt.Sprintf("%d of %d requests failed at %d", n, l.Submitted+l.Checked, l.Concurrency))
		}
		if l.Submit.N == 0 || l.Submit.P99 >= SiegeP99 {
			v.Reasons = append(v.Reasons, fmt.Sprintf("report p99 %s at %d, goal < %s", fmtDur(l.Submit.P99), l.Concurrency, SiegeP99))
		}
		if l.Check.N > 0 && l.Check.P99 >= SiegeP99 {
			v.Reasons = append(v.Reasons, fmt.Sprintf("check p99 %s at %d, goal < %s", fmtDur(l.Check.P99), l.Concurrency, SiegeP99))
		}
		if l.Memory && max(l.RSSMax, l.HWMAft) > SiegeMaxRSS {
			v.Reasons = append(v.Reasons, fmt.Sprintf("server peak memory %d MiB at %d, goal <= %d MiB", max(l.RSSMax, l.HWMAft)>>20, l.Concurrency, SiegeMaxRSS>>20))
		}
	}
	v.Pass = len(v.Reasons) == 0
	return v
}

// Verdict says whether the measured figures meet the goals, and why not.
type Verdict struct {
	Goal    string // the goals, in words
	Pass    bool
	Reasons []string
}

// Judge compares figures with the goals: throughput and tail latency at
// GoalConcurrency, and the weight of the landing and form pages.
func Judge(pages []PageWeight, levels []*Level, lang string) Verdict {
	v := Verdict{Goal: fmt.Sprintf(">= %d submissions/s at concurrency %d with p99 < %s; landing and form pages <= %d KiB, <= %d requests, no scripts, nothing from another host",
		GoalRate, GoalConcurrency, GoalP99, PageBudget>>10, RequestBudget)}
	var at *Level
	for _, l := range levels {
		if l.Concurrency == GoalConcurrency {
			at = l
		}
	}
	switch {
	case at == nil:
		v.Reasons = append(v.Reasons, fmt.Sprintf("throughput not measured at concurrency %d", GoalConcurrency))
	default:
		if r := at.Rate(); r < GoalRate {
			v.Reasons = append(v.Reasons, fmt.Sprintf("%.0f submissions/s at %d, goal >= %d", r, GoalConcurrency, GoalRate))
		}
		if at.Submit.N == 0 || at.Submit.P99 >= GoalP99 {
			v.Reasons = append(v.Reasons, fmt.Sprintf("p99 %s at %d, goal < %s", fmtDur(at.Submit.P99), GoalConcurrency, GoalP99))
		}
	}
	for i := range pages {
		p := &pages[i]
		if !isLandingOrForm(p.Path) {
			continue
		}
		if f := p.Flags(); len(f) > 0 {
			v.Reasons = append(v.Reasons, p.Path+": "+strings.Join(f, ", "))
		}
	}
	v.Pass = len(v.Reasons) == 0
	return v
}

func isLandingOrForm(path string) bool {
	if path == "/" {
		return true
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	return len(parts) == 2 && (parts[1] == "" || parts[1] == "report" || parts[1] == "check")
}

// PrintPages prints the page-weight table, then what each page loads from
// or links to on other hosts.
func PrintPages(w io.Writer, pages []PageWeight) {
	fmt.Fprintf(w, "page weight (uncompressed bodies, empty cache; budget %d KiB, %d requests)\n", PageBudget>>10, RequestBudget)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "page\tstatus\thtml B\tcss B\ttotal B\treqs\t<script\toff-host\tlinks out\t flags\t")
	for i := range pages {
		p := &pages[i]
		flags := strings.Join(p.Flags(), ",")
		if flags == "" {
			flags = "ok"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t %s\t\n", p.Path, p.Status, p.HTMLBytes, p.CSSBytes,
			p.TotalBytes, p.Requests, p.Scripts, len(p.OffHost), len(p.LinksOut), flags)
	}
	tw.Flush()
	for _, list := range []struct {
		title string
		get   func(*PageWeight) []string
	}{
		{"loads from other hosts", func(p *PageWeight) []string { return p.OffHost }},
		{"links out", func(p *PageWeight) []string { return p.LinksOut }},
		{"broken subresources", func(p *PageWeight) []string { return p.Broken }},
	} {
		first := true
		for i := range pages {
			for _, u := range list.get(&pages[i]) {
				if first {
					fmt.Fprintf(w, "\n%s:\n", list.title)
					first = false
				}
				fmt.Fprintf(w, "  %-14s %s\n", pages[i].Path, u)
			}
		}
	}
}

// PrintLevelHeader prints the header for PrintLevel's lines.
func PrintLevelHeader(w io.Writer, memory bool) {
	fmt.Fprintf(w, "%6s %8s %8s %8s %8s %8s %8s %7s %7s", "conc", "subs/s", "ok", "p50", "p90", "p99", "max", "checks", "chk p99")
	if memory {
		fmt.Fprintf(w, " %9s %9s %9s", "rss max", "hwm start", "hwm end")
	}
	fmt.Fprintln(w, "  errors")
}

// PrintLevel prints one level's figures on one line.
func PrintLevel(w io.Writer, l *Level) {
	fmt.Fprintf(w, "%6d %8.1f %8d %8s %8s %8s %8s %7d %7s", l.Concurrency, l.Rate(), l.Accepted,
		fmtDur(l.Submit.P50), fmtDur(l.Submit.P90), fmtDur(l.Submit.P99), fmtDur(l.Submit.Max),
		l.CheckOK, fmtDur(l.Check.P99))
	if l.Memory {
		fmt.Fprintf(w, " %9s %9s %9s", fmtMiB(l.RSSMax), fmtMiB(l.HWMBefore), fmtMiB(l.HWMAft))
	}
	fmt.Fprintf(w, "  %s\n", fmtErrors(l.Errors))
}

// PrintVerdict prints the goal verdict.
func PrintVerdict(w io.Writer, v Verdict) {
	fmt.Fprintf(w, "\ngoal: %s\n", v.Goal)
	if v.Pass {
		fmt.Fprintln(w, "verdict: PASS")
		return
	}
	fmt.Fprintln(w, "verdict: FAIL")
	for _, r := range v.Reasons {
		fmt.Fprintf(w, "  - %s\n", r)
	}
}

func fmtErrors(e map[string]int) string {
	if len(e) == 0 {
		return "none"
	}
	var parts []string
	for k, v := range e {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func fmtDur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

func fmtMiB(b int64) string {
	return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20))
}
