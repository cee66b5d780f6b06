package reviewer

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hearken-project/hearken/reviewer/cases"
)

const usage = `reviewer: the safeguarding team's tool for Hearken reports.

First time:
  reviewer keygen --name "Your Name" [--out DIR]
                                  make your keys (in DIR, default the store
                                  folder); give member.pub to IT
  reviewer init --server URL      remember the server
  reviewer init --team FILE [--route ROUTE]
                                  remember who replies on a route are sealed to
Every day:
  reviewer sync [--json]          fetch new reports, send your replies
  reviewer list [--json]          cases, most pressing first
  reviewer show CASE [--json]     read a case (CASE is like HK-0001)
  reviewer reply CASE --message TEXT [--team FILE]
                                  answer the reporter (or --message-file F)
  reviewer triage CASE [--status S] [--category C] [--urgency U] [--assign NAME]
  reviewer note CASE --message TEXT [--corrects N]
  reviewer export CASE --out FILE.html        printable record for a referral
  reviewer attachments CASE --out DIR          save the case's photos and files
  reviewer export-sealed CASE --out DIR        the case's items as received (.age files)
  reviewer export-age-identity --out FILE     your plain age key, for the age tool

Case numbers (HK-0001) are this computer's own: a colleague's HK-0001 may be
another case. The tag beside each case (like #3f2a9c1d) is the same for the
whole team; use it when you talk about a case with a colleague.

Teams and routes: each route (like "students" or "head") has its own team
file, and a reply is sealed to the reporter and to that route's team only.
  reviewer init --team FILE --route ROUTE   the team for ROUTE
  reviewer init --team FILE                 the team for your only route: if
      every case on this computer is of one route (or there are none yet),
      FILE is that route's team. Once cases of a second route arrive, give
      each route its team with --route; a reply on a route without one is
      refused and says which command to run.
  reply --team FILE seals that one reply to the team in FILE instead.

Options for every command:
  --store DIR            where cases and keys live (default ~/.hearken)
  --identity FILE        your identity file (default STORE/member.identity)
  --passphrase-file FILE read the passphrase from FILE instead of asking

Statuses:   new, triaged, in progress, referred, closed
Categories: bullying, physical abuse, sexual abuse, emotional abuse, neglect,
            self-harm or suicide risk, online exploitation or sextortion,
            concern about an adult, substance use, threat of violence, other
Urgency:    low, medium, high, immediate
`

// errUsage marks a mistake in the command line (exit status 2).
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	store, identity, passFile string
}

// Main runs the reviewer command line and returns the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	err := c.run(args)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "reviewer: %s\n", clean(withHint(err)))
	var u errUsage
	if errors.As(err, &u) {
		fmt.Fprintln(stderr, "Run reviewer help for the list of commands.")
		return 2
	}
	return 1
}

func (c *cli) globals(fs *flag.FlagSet) {
	fs.StringVar(&c.store, "store", c.store, "")
	fs.StringVar(&c.identity, "identity", c.identity, "")
	fs.StringVar(&c.passFile, "passphrase-file", c.passFile, "")
}

// parse parses flags and positional arguments in any order.
func (c *cli) parse(fs *flag.FlagSet, args []string, npos int) ([]string, error) {
	c.globals(fs)
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, errUsage{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) != npos {
		if npos == 1 {
			return nil, errUsage{fmt.Sprintf("%s needs one case number, like HK-0001", fs.Name())}
		}
		return nil, errUsage{fmt.Sprintf("%s takes no arguments besides its options", fs.Name())}
	}
	return pos, nil
}

func (c *cli) run(args []string) error {
	home, _ := os.UserHomeDir()
	c.store = filepath.Join(home, ".hearken")
	top := flag.NewFlagSet("reviewer", flag.ContinueOnError)
	c.globals(top)
	top.SetOutput(io.Discard)
	if err := top.Parse(args); err != nil {
		return errUsage{err.Error()}
	}
	args = top.Args()
	if len(args) == 0 {
		fmt.Fprint(c.stdout, usage)
		return errUsage{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprint(c.stdout, usage)
		return nil
	case "keygen":
		return c.keygen(fs, rest)
	case "init":
		return c.init(fs, rest)
	case "sync":
		return c.sync(fs, rest)
	case "list":
		return c.list(fs, rest)
	case "show":
		return c.show(fs, rest)
	case "reply":
		return c.reply(fs, rest)
	case "triage":
		return c.triage(fs, rest)
	case "note":
		return c.note(fs, rest)
	case "export":
		return c.export(fs, rest)
	case "attachments":
		return c.attachments(fs, rest)
	case "export-sealed":
		return c.exportSealed(fs, rest)
	case "export-age-identity":
		return c.exportAgeIdentity(fs, rest)
	}
	return errUsage{fmt.Sprintf("unknown command %q", cmd)}
}

func (c *cli) caseArg(fs *flag.FlagSet, args []string) (uint64, error) {
	pos, err := c.parse(fs, args, 1)
	if err != nil {
		return 0, err
	}
	n, err := cases.ParseCaseNumber(pos[0])
	if err != nil {
		return 0, errUsage{err.Error()}
	}
	return n, nil
}

// caseAndOut reads the CASE argument and the --out option that export,
// attachments and export-sealed share; what names --out's value for the
// usage message.
func (c *cli) caseAndOut(fs *flag.FlagSet, args []string, what string) (uint64, string, error) {
	out := fs.String("out", "", "")
	n, err := c.caseArg(fs, args)
	if err != nil {
		return 0, "", err
	}
	if *out == "" {
		return 0, "", errUsage{fs.Name() + " needs --out " + what}
	}
	return n, *out, nil
}
