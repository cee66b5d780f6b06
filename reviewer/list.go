package reviewer

import (
	"flag"
	"fmt"

	"github.com/hearken-project/hearken/reviewer/cases"
)

func (c *cli) list(fs *flag.FlagSet, args []string) error {
	asJSON := fs.Bool("json", false, "")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	_, st, err := c.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()
	all, err := st.List()
	if err != nil {
		return err
	}
	if *asJSON {
		if all == nil {
			all = []cases.CaseSummary{}
		}
		return writeJSON(c.stdout, all)
	}
	return writeList(c.stdout, all)
}

func (c *cli) show(fs *flag.FlagSet, args []string) error {
	asJSON := fs.Bool("json", false, "")
	ref, err := c.caseArg(fs, args)
	if err != nil {
		return err
	}
	_, st, n, err := c.openCase(ref)
	if err != nil {
		return err
	}
	defer st.Close()
	cv, err := st.Show(n)
	if err != nil {
		return fmt.Errorf("%s: %w", cases.CaseNumber(n), err)
	}
	if *asJSON {
		return writeJSON(c.stdout, cv)
	}
	writeCase(c.stdout, cv)
	return nil
}
