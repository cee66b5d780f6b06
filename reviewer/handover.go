package reviewer

import (
	"flag"
	"fmt"
	"slices"

	"github.com/hearken-project/hearken/reviewer/cases"
)

// handover seals a case's history again for its route's team as the team
// file here has it now, so that a member who joined after the case began
// can read it (cases.Store.Handover). --all hands over every case.
func (c *cli) handover(fs *flag.FlagSet, args []string) error {
	all := fs.Bool("all", false, "")
	var nums []uint64
	var err error
	var st *cases.Store
	if slices.Contains(args, "--all") || slices.Contains(args, "-all") {
		if _, err := c.parse(fs, args, 0); err != nil {
			return err
		}
	}
	if *all {
		_, st, err = c.openStore(false)
		if err != nil {
			return err
		}
		list, err := st.List()
		if err != nil {
			st.Close()
			return err
		}
		for _, cs := range list {
			if n, err := cases.ParseCaseNumber(cs.Case); err == nil {
				nums = append(nums, n)
			}
		}
	} else {
		ref, err := c.caseArg(fs, args)
		if err != nil {
			return err
		}
		var n uint64
		if _, st, n, err = c.openCase(ref); err != nil {
			return err
		}
		nums = []uint64{n}
	}
	defer st.Close()
	total := 0
	for _, n := range nums {
		res, err := st.Handover(n)
		if err != nil {
			return fmt.Errorf("%s: %w", cases.CaseNumber(n), err)
		}
		total += res.Events
		line := fmt.Sprintf("%s: %s sealed again for the team", res.Case, count(res.Items, "item", "items"))
		if res.NoAttachments > 0 {
			line += fmt.Sprintf("; the attachments of %s were too large to hand over (reviewer attachments saves them, to give by hand)",
				count(res.NoAttachments, "item", "items"))
		}
		if res.Unreadable > 0 {
			line += fmt.Sprintf("; %s you cannot open either %s left out", count(res.Unreadable, "item", "items"), pick(res.Unreadable, "is", "are"))
		}
		fmt.Fprintln(c.stdout, line+".")
	}
	if total > 0 {
		fmt.Fprintln(c.stdout, "Saved. The team, as your team file has it now, can read the history after your next reviewer sync and theirs.")
	}
	return nil
}
