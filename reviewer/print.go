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

// printSync says what a sync did, a danger-now report first of all, and
// only what it did: a sync that could not connect prints nothing here (its
// error says what failed).
func (c *cli) printSync(res *cases.SyncResult) {
	if res == nil {
		return
	}
	if n := len(res.DangerCases); n > 0 {
		fmt.Fprintf(c.stdout, "DANGER: %s someone may be in danger now: %s. Read %s now: reviewer show %s\n",
			count(n, "new report says", "new reports say"), strings.Join(res.DangerCases, ", "), pick(n, "it", "them"), res.DangerCases[0])
	}
	// The danger line stays first; then what --again asked for.
	switch {
	case res.AskedRecently:
		fmt.Fprintln(c.stdout, "You asked the server for everything again a few minutes ago; this sync fetches what it holds for you.")
	case res.Again:
		fmt.Fprintf(c.stdout, "The server sends again every item it still holds for you: %s.\n", count(res.Held, "item", "items"))
	}
	switch {
	case res.Received > 0:
		var kinds []string
		for _, k := range []struct {
			kind      vault.Kind
			one, many string
		}{
			{vault.KindReport, "report", "reports"},
			{vault.KindFollowUp, "follow-up from a reporter", "follow-ups from reporters"},
			{vault.KindReply, "reply from a colleague", "replies from colleagues"},
			{vault.KindEvent, "case update from a colleague", "case updates from colleagues"},
		} {
			if n := res.KindCount[string(k.kind)]; n > 0 {
				kinds = append(kinds, count(n, k.one, k.many))
			}
		}
		fmt.Fprintf(c.stdout, "Received %s (%s)", count(res.Received, "new item", "new items"), strings.Join(kinds, ", "))
		if n := len(res.NewCases); n > 0 && n <= 5 {
			fmt.Fprintf(c.stdout, "; %s: %s", count(n, "new case", "new cases"), strings.Join(res.NewCases, ", "))
		} else if n > 0 {
			fmt.Fprintf(c.stdout, "; %s", count(n, "new case", "new cases"))
		}
		fmt.Fprintln(c.stdout, ".")
	case res.Fetched:
		fmt.Fprintln(c.stdout, "No new items.")
	}
	if res.Pushed > 0 {
		fmt.Fprintf(c.stdout, "Sent %s.\n", count(res.Pushed, "reply", "replies"))
	}
	if res.UpdatesSent > 0 {
		fmt.Fprintf(c.stdout, "Sent %s to the team.\n", count(res.UpdatesSent, "case update", "case updates"))
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
	if note := res.HandoverNote(10); note != "" {
		fmt.Fprintln(c.stdout, clean(note))
	}
	if n := res.HandedOver; n > 0 {
		fmt.Fprintf(c.stdout, "Received %s that colleagues handed over.\n", count(n, "item", "items"))
	}
	if n := res.Undeliverable; n > 0 {
		fmt.Fprintf(c.stdout, "Warning: the server holds %s for you that it cannot send: its queue is damaged. Nothing is lost; tell the person who runs Hearken to run \"intake repair\" (see \"A damaged store\" in its deploy/README.md), then sync again.\n",
			count(n, "item", "items"))
	}
	if n := res.Waiting; n > 0 {
		fmt.Fprintf(c.stdout, "%s still waiting to be sent; %s with the next sync that reaches the server.\n",
			count(n, "reply is", "replies are"), pick(n, "it goes", "they go"))
	}
	for _, r := range res.NoTeam {
		fmt.Fprintf(c.stdout, "Case updates on route %s wait: no team file is recorded for it on this computer, so reviewer cannot tell who may read them. Run reviewer init --team FILE --route %s.\n", clean(r), clean(r))
	}
	if n := res.UpdatesWaiting; n > 0 && len(res.NoTeam) == 0 {
		fmt.Fprintf(c.stdout, "%s still waiting to be sent; %s with the next sync that reaches the server.\n",
			count(n, "case update is", "case updates are"), pick(n, "it goes", "they go"))
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
	fmt.Fprintln(tw, "CASE\tDANGER\tURGENCY\tSTATUS\tWAITING\tHANDLING\tCATEGORY\tRECEIVED\tREPORT")
	for _, cs := range all {
		waiting := "answered"
		if cs.Unanswered {
			waiting = count(cs.WaitingDays, "day", "days")
		}
		if cs.Queued > 0 {
			waiting += " (reply queued)"
		}
		flag := ""
		if cs.Problems > 0 || cs.ReplyKeyConflict || len(cs.Conflicts) > 0 {
			flag = "[!] "
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s%s\n", cs.Case, dangerWord(cs), clean(dash(cs.Urgency)), clean(cs.Status), waiting,
			clean(dash(strings.Join(cs.Handling, ", "))), clean(dash(cs.Category)), clean(cs.Received), flag, clean(cs.Preview))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, cs := range all {
		if cs.ReplyKeyConflict {
			fmt.Fprintf(w, "[!] %s has been given more than one reply key: replies wait until a lead resolves it (reviewer show %s).\n", cs.Case, cs.Case)
		}
		for _, c := range cs.Conflicts {
			fmt.Fprintf(w, "[!] %s: %s.\n", cs.Case, clean(c))
		}
	}
	return nil
}

// dangerWord is list's DANGER column: the report's answer to "Is someone
// in danger right now?", loud when it is yes.
func dangerWord(cs cases.CaseSummary) string {
	switch {
	case cs.DangerNow:
		return "YES"
	case strings.EqualFold(strings.TrimSpace(cs.Danger), "unsure"):
		return "not sure"
	}
	return "-"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeCase prints a case for reading in a terminal: a danger banner
// first when the reporter said someone is in danger now, then each item
// under its title, each answer under what it means.
func writeCase(w io.Writer, cv *cases.CaseView) {
	if cv.DangerNow {
		if cv.Status == "new" {
			fmt.Fprintln(w, "DANGER: the reporter says someone may be in danger now. Act on this first.")
		} else {
			fmt.Fprintln(w, "DANGER: the reporter said someone may be in danger now.")
		}
	}
	former := ""
	if cv.Former != "" {
		former = " (formerly " + clean(cv.Former) + " on this computer)"
	}
	fmt.Fprintf(w, "Case %s%s   route %s   first received %s\n", cv.Case, former, clean(cv.Route), clean(cv.Received))
	fmt.Fprintf(w, "Status: %s   Category: %s   Urgency: %s   Assigned: %s\n",
		clean(cv.Status), clean(dash(cv.Category)), clean(dash(cv.Urgency)), clean(dash(cv.Assigned)))
	if len(cv.Handling) > 0 {
		fmt.Fprintf(w, "Handling: %s\n", clean(strings.Join(cv.Handling, ", ")))
	}
	for _, c := range cv.Conflicts {
		fmt.Fprintf(w, "Conflict: %s.\n", clean(c))
	}
	if len(cv.LocalOnly) > 0 {
		fmt.Fprintf(w, "On this computer only: %s, set here before case records were shared; colleagues do not see %s. Set %s again to share %s.\n",
			strings.Join(cv.LocalOnly, ", "), pick(len(cv.LocalOnly), "it", "them"), pick(len(cv.LocalOnly), "it", "them"), pick(len(cv.LocalOnly), "it", "them"))
	}
	if cv.UpdatesQueued > 0 {
		fmt.Fprintf(w, "%s waiting to be sent to the team: run reviewer sync.\n", count(cv.UpdatesQueued, "change is", "changes are"))
	}
	if cv.ReplyKey != "" {
		fmt.Fprintf(w, "Reply key: %s (colleagues' reviewer show gives the same for this case)\n", cv.ReplyKey)
	}
	if cv.KeyProblem != "" {
		fmt.Fprintf(w, "!! %s\n", clean(cv.KeyProblem))
	}
	if cv.Notice != "" {
		fmt.Fprintf(w, "!! %s\n", clean(cv.Notice))
	}
	for _, m := range cv.Messages {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "== %s, %s", clean(m.Title()), clean(m.Day))
		if m.State != "" {
			fmt.Fprintf(w, " (%s)", clean(m.State))
		}
		fmt.Fprintln(w)
		if m.Problem != "" {
			fmt.Fprintf(w, "!! This item %s\n", clean(m.Problem))
		}
		if m.Note != "" {
			fmt.Fprintf(w, "(%s)\n", clean(m.Note))
		}
		if m.LanguageNote != "" {
			fmt.Fprintln(w, clean(m.LanguageNote))
		}
		for _, a := range m.Answers() {
			switch {
			case a.Choice:
				fmt.Fprintf(w, "%s %s\n", clean(a.Label), clean(a.Value))
				continue
			case a.Label != "":
				fmt.Fprintf(w, "%s:\n", clean(a.Label))
			}
			for _, line := range strings.Split(a.Value, "\n") {
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
	local := false
	for _, l := range cv.Chronology {
		n := ""
		if l.N != 0 {
			n = fmt.Sprintf("#%d", l.N)
		}
		what := l.What
		if l.Local {
			what, local = "* "+what, true
		}
		text := l.Text
		if l.State != "" {
			text = strings.TrimSpace(text + " (" + l.State + ")")
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", n, clean(l.Day), clean(l.Who), clean(what), clean(text))
	}
	tw.Flush()
	if local {
		fmt.Fprintln(w, "* written on this computer before case records were shared; never sent to the team.")
	}
}
