package reviewer

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

func (c *cli) printSync(res *cases.SyncResult) {
	if res == nil {
		return
	}
	if res.Received > 0 {
		var kinds []string
		for _, k := range []struct {
			kind      vault.Kind
			one, many string
		}{
			{vault.KindReport, "report", "reports"},
			{vault.KindFollowUp, "follow-up from a reporter", "follow-ups from reporters"},
			{vault.KindReply, "reply from a colleague", "replies from colleagues"},
		} {
			if n := res.KindCount[string(k.kind)]; n > 0 {
				kinds = append(kinds, count(n, k.one, k.many))
			}
		}
		fmt.Fprintf(c.stdout, "Received %s (%s)", count(res.Received, "new item", "new items"), strings.Join(kinds, ", "))
		if n := len(res.NewCases); n > 0 {
			fmt.Fprintf(c.stdout, "; %s", count(n, "new case", "new cases"))
		}
		fmt.Fprintln(c.stdout, ".")
	} else {
		fmt.Fprintln(c.stdout, "No new items.")
	}
	if res.Pushed > 0 {
		fmt.Fprintf(c.stdout, "Sent %s.\n", count(res.Pushed, "reply", "replies"))
	}
	if res.Failed > 0 {
		fmt.Fprintf(c.stdout, "%s (see reviewer show); %s kept here.\n",
			count(res.Failed, "reply could not be delivered", "replies could not be delivered"), pick(res.Failed, "it is", "they are"))
	}
	for _, d := range res.NotDelivered {
		fmt.Fprintf(c.stdout, "Not delivered: a reply on %s: %s\n", d.Case, clean(d.Reason))
	}
	for _, a := range res.SetAside {
		if a.Case == "" {
			fmt.Fprintf(c.stdout, "Warning: an item belonging to no case was set aside because %s. It is kept unchanged; tell the person who runs Hearken.\n", clean(a.Reason))
			continue
		}
		fmt.Fprintf(c.stdout, "Warning: an item of %s was set aside because %s. It is kept unchanged; tell the person who runs Hearken.\n", a.Case, clean(a.Reason))
	}
	if n := len(res.SetAside); n > 0 {
		fmt.Fprintf(c.stdout, "%s in this sync.\n", count(n, "item set aside", "items set aside"))
	}
}

// count writes n with the words for one or for any other number: "1 new
// item", "0 new items", "2 new items".
func count(n int, one, many string) string {
	return strconv.Itoa(n) + " " + pick(n, one, many)
}

// pick returns one when n is 1, else many.
func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// writeJSON writes v as indented JSON, with every character a terminal
// would act on escaped (escapeJSON).
func writeJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(escapeJSON(data), '\n'))
	return err
}

// writeList prints cases as a table.
func writeList(w io.Writer, all []cases.CaseSummary) error {
	if len(all) == 0 {
		_, err := fmt.Fprintln(w, "No cases yet. Run reviewer sync to fetch new reports.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tTAG\tURGENCY\tSTATUS\tWAITING\tCATEGORY\tRECEIVED\tREPORT")
	for _, cs := range all {
		waiting := "answered"
		if cs.Unanswered {
			waiting = fmt.Sprintf("%d days", cs.WaitingDays)
			if cs.WaitingDays == 1 {
				waiting = "1 day"
			}
		}
		if cs.Queued > 0 {
			waiting += " (reply queued)"
		}
		flag := ""
		if cs.Problems > 0 {
			flag = "[!] "
		}
		fmt.Fprintf(tw, "%s\t#%s\t%s\t%s\t%s\t%s\t%s\t%s%s\n", cs.Case, clean(cs.Tag), clean(dash(cs.Urgency)), clean(cs.Status), waiting,
			clean(dash(cs.Category)), clean(cs.Received), flag, clean(cs.Preview))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeCase prints a case for reading in a terminal.
func writeCase(w io.Writer, cv *cases.CaseView) {
	fmt.Fprintf(w, "Case %s (tag #%s)   route %s   first received %s\n", cv.Case, clean(cv.Tag), clean(cv.Route), clean(cv.Received))
	fmt.Fprintf(w, "Status: %s   Category: %s   Urgency: %s   Assigned: %s\n",
		clean(cv.Status), clean(dash(cv.Category)), clean(dash(cv.Urgency)), clean(dash(cv.Assigned)))
	if cv.Notice != "" {
		fmt.Fprintf(w, "!! %s\n", clean(cv.Notice))
	}
	for _, m := range cv.Messages {
		fmt.Fprintln(w)
		head := cases.KindLabel(m.Kind)
		if m.Author != "" {
			head += " by " + m.Author
		}
		fmt.Fprintf(w, "== %s, %s", clean(head), clean(m.Day))
		if m.State != "" {
			fmt.Fprintf(w, " (%s)", clean(m.State))
		}
		fmt.Fprintln(w)
		if m.Problem != "" {
			fmt.Fprintf(w, "!! This item %s\n", clean(m.Problem))
		}
		for _, f := range m.Fields {
			if f.Value == "" {
				continue
			}
			fmt.Fprintf(w, "%s:\n", clean(cases.FieldLabel(f.Name)))
			for _, line := range strings.Split(f.Value, "\n") {
				fmt.Fprintf(w, "  %s\n", clean(line))
			}
		}
		for _, a := range m.Attachments {
			note := ""
			if !a.Cleaned {
				note = ", identifying details not removed"
			}
			fmt.Fprintf(w, "Attachment: %s (%s, %s%s)\n", clean(a.Name), clean(a.Type), a.SizeText(), note)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Chronology:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, l := range cv.Chronology {
		n := ""
		if l.N != 0 {
			n = fmt.Sprintf("#%d", l.N)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", n, clean(l.Day), clean(l.Who), clean(l.What), clean(l.Text))
	}
	tw.Flush()
}
