package reviewer

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hearken-project/hearken/reviewer/cases"
)

func (c *cli) export(fs *flag.FlagSet, args []string) error {
	ref, out, err := c.caseAndOut(fs, args, "FILE.html")
	if err != nil {
		return err
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("%s already exists; it will not be overwritten: choose another name", out)
	}
	_, st, n, err := c.openCase(ref)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Export(n, out); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Wrote %s.\n", out)
	fmt.Fprintln(c.stderr, "Warning: this file is NOT encrypted. Treat it like a paper safeguarding record: send it only to the agency, and delete it when it is no longer needed.")
	return nil
}

// attachments saves a case's attachments, decrypted, for the lead to look at.
func (c *cli) attachments(fs *flag.FlagSet, args []string) error {
	ref, out, err := c.caseAndOut(fs, args, "DIR")
	if err != nil {
		return err
	}
	_, st, n, err := c.openCase(ref)
	if err != nil {
		return err
	}
	defer st.Close()
	saved, err := st.SaveAttachments(n, out)
	for _, a := range saved {
		note := ""
		if !a.Cleaned {
			note = "  (identifying details such as the author may still be inside)"
		}
		fmt.Fprintf(c.stdout, "%s%s\n", clean(a.Path), note)
		if a.Warning != "" {
			fmt.Fprintf(c.stderr, "Warning: %s: %s.\n", clean(filepath.Base(a.Path)), clean(a.Warning))
		}
	}
	if err != nil {
		return err
	}
	if len(saved) == 0 {
		fmt.Fprintf(c.stdout, "%s has no attachments.\n", cases.CaseNumber(n))
		return nil
	}
	fmt.Fprintln(c.stderr, "Warning: these files are NOT encrypted. Look at them on this computer only, and delete them when you are done.")
	return nil
}

// exportSealed writes a case's items exactly as they arrived, one .age file
// each, so they can be opened with the standard age tool or handed on still
// encrypted. Nothing is decrypted.
func (c *cli) exportSealed(fs *flag.FlagSet, args []string) error {
	ref, out, err := c.caseAndOut(fs, args, "DIR")
	if err != nil {
		return err
	}
	_, st, n, err := c.openCase(ref)
	if err != nil {
		return err
	}
	defer st.Close()
	written, err := st.ExportSealed(n, out)
	for _, name := range written {
		fmt.Fprintln(c.stdout, name)
	}
	return err
}
