package reviewer

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

func (c *cli) reply(fs *flag.FlagSet, args []string) error {
	msg := fs.String("message", "", "")
	msgFile := fs.String("message-file", "", "")
	teamPath := fs.String("team", "", "")
	ref, err := c.caseArg(fs, args)
	if err != nil {
		return err
	}
	text, err := messageArg(*msg, *msgFile)
	if err != nil {
		return err
	}
	if _, err := cases.CheckText("reply", text); err != nil {
		return errUsage{err.Error()}
	}
	var team *vault.Team
	if *teamPath != "" {
		if team, err = vault.LoadTeam(*teamPath); err != nil {
			return err
		}
	}
	m, st, n, err := c.openCase(ref)
	if err != nil {
		return err
	}
	defer st.Close()
	cv, err := st.Show(n)
	if err != nil {
		return fmt.Errorf("%s: %w", cases.CaseNumber(n), err)
	}
	if team == nil {
		if team, err = st.TeamFor(cv.Route); err != nil {
			return teamError(n, cv.Route, err)
		}
	}
	if _, ok := team.Lookup(m.SigningPublic()); !ok {
		fmt.Fprintln(c.stderr, "Warning: you are not in your team file; your reply is sealed to you as well, so you can still read it.")
	}
	if others := othersHandling(cv.Handling, m.Name); len(others) > 0 {
		fmt.Fprintf(c.stderr, "Note: %s said they are handling this case.\n", strings.Join(others, " and "))
	}
	if _, err := st.Reply(n, text, team); err != nil {
		if errors.Is(err, cases.ErrReplyKeyConflict) {
			return fmt.Errorf("%s: %w", cases.CaseNumber(n), err)
		}
		return err
	}
	fmt.Fprintf(c.stdout, "Reply to %s saved and queued. Run reviewer sync to send it.\n", cases.CaseNumber(n))
	return nil
}

// othersHandling lists who, besides me, said they are handling a case.
func othersHandling(handling []string, me string) []string {
	var out []string
	for _, h := range handling {
		if h != me {
			out = append(out, clean(h))
		}
	}
	return out
}

// teamError says why there is no team to seal a reply on case n to, and
// what to run when none is recorded for its route.
func teamError(n uint64, route string, err error) error {
	switch {
	case errors.Is(err, cases.ErrStoreCorrupt):
		return err
	case errors.Is(err, cases.ErrNoTeam) && cases.ValidRoute(route):
		return fmt.Errorf("%s: %w, so reviewer cannot tell who may read this reply: run reviewer init --team FILE --route %s with that route's team file from the person who runs Hearken", cases.CaseNumber(n), err, route)
	}
	return fmt.Errorf("%s: %w", cases.CaseNumber(n), err)
}

// messageArg reads the text of a reply or note from --message or
// --message-file.
func messageArg(msg, file string) (string, error) {
	switch {
	case msg != "" && file != "":
		return "", errUsage{"give --message or --message-file, not both"}
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("failed to open the message file: %w", err)
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, cases.MaxMessage+1))
		if err != nil {
			return "", fmt.Errorf("failed to read the message file: %w", err)
		}
		return string(data), nil
	case msg != "":
		return msg, nil
	}
	return "", errUsage{"give the text with --message \"...\" or --message-file FILE"}
}

func (c *cli) triage(fs *flag.FlagSet, args []string) error {
	var ch cases.TriageChange
	fs.StringVar(&ch.Status, "status", "", "")
	fs.StringVar(&ch.Category, "category", "", "")
	fs.StringVar(&ch.Urgency, "urgency", "", "")
	fs.StringVar(&ch.Assign, "assign", "", "")
	ref, err := c.caseArg(fs, args)
	if err != nil {
		return err
	}
	if ch == (cases.TriageChange{}) {
		return errUsage{"triage needs at least one of --status, --category, --urgency, --assign"}
	}
	// Check the words before asking for a passphrase.
	if err := ch.Check(); err != nil {
		return errUsage{err.Error()}
	}
	_, st, n, err := c.openCase(ref)
	if err != nil {
		return err
	}
	defer st.Close()
	t, err := st.Triage(n, ch)
	if err != nil {
		return fmt.Errorf("%s: %w", cases.CaseNumber(n), err)
	}
	fmt.Fprintf(c.stdout, "%s: status %s, category %s, urgency %s, assigned %s\n",
		cases.CaseNumber(n), t.Status, clean(dash(t.Category)), clean(dash(t.Urgency)), clean(dash(t.Assigned)))
	fmt.Fprintln(c.stdout, sharedLater)
	return nil
}

// sharedLater says when a change written here reaches the team.
const sharedLater = "Saved. Colleagues see it after your next reviewer sync and theirs."

// handle says the member is handling a case, or with --stop no longer is.
func (c *cli) handle(fs *flag.FlagSet, args []string) error {
	stop := fs.Bool("stop", false, "")
	ref, err := c.caseArg(fs, args)
	if err != nil {
		return err
	}
	m, st, n, err := c.openCase(ref)
	if err != nil {
		return err
	}
	defer st.Close()
	who, err := st.Handle(n, !*stop)
	if err != nil {
		return fmt.Errorf("%s: %w", cases.CaseNumber(n), err)
	}
	switch others := othersHandling(who, m.Name); {
	case *stop && len(others) == 0:
		fmt.Fprintf(c.stdout, "%s: you are no longer handling it; nobody is.\n", cases.CaseNumber(n))
	case *stop:
		fmt.Fprintf(c.stdout, "%s: you are no longer handling it; %s still %s.\n", cases.CaseNumber(n), strings.Join(others, " and "), pick(len(others), "is", "are"))
	case len(others) > 0:
		fmt.Fprintf(c.stdout, "%s: you are handling it. Note: %s said they are handling it too; talk to them.\n",
			cases.CaseNumber(n), strings.Join(others, " and "))
	default:
		fmt.Fprintf(c.stdout, "%s: you are handling it.\n", cases.CaseNumber(n))
	}
	fmt.Fprintln(c.stdout, sharedLater)
	return nil
}

// resolve says which reply key of a case is the reporter's.
func (c *cli) resolve(fs *flag.FlagSet, args []string) error {
	keep := fs.String("keep", "", "")
	ref, err := c.caseArg(fs, args)
	if err != nil {
		return err
	}
	if strings.TrimSpace(*keep) == "" {
		return errUsage{"resolve needs --keep FINGERPRINT: the reply key that is the reporter's (reviewer show lists them; compare them with colleagues first)"}
	}
	_, st, n, err := c.openCase(ref)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Resolve(n, *keep); err != nil {
		return fmt.Errorf("%s: %w", cases.CaseNumber(n), err)
	}
	fmt.Fprintf(c.stdout, "%s: replies will be sealed to reply key %s; items that presented another key stay set aside.\n",
		cases.CaseNumber(n), strings.ToUpper(strings.TrimSpace(*keep)))
	fmt.Fprintln(c.stdout, "Your decision goes to the team with your next reviewer sync.")
	return nil
}

func (c *cli) note(fs *flag.FlagSet, args []string) error {
	msg := fs.String("message", "", "")
	msgFile := fs.String("message-file", "", "")
	corrects := fs.Uint64("corrects", 0, "")
	ref, err := c.caseArg(fs, args)
	if err != nil {
		return err
	}
	text, err := messageArg(*msg, *msgFile)
	if err != nil {
		return err
	}
	if _, err := cases.CheckText("note", text); err != nil {
		return errUsage{err.Error()}
	}
	_, st, n, err := c.openCase(ref)
	if err != nil {
		return err
	}
	defer st.Close()
	num, err := st.Note(n, text, *corrects)
	if err != nil {
		return fmt.Errorf("%s: %w", cases.CaseNumber(n), err)
	}
	fmt.Fprintf(c.stdout, "%s: entry #%d added to the chronology.\n", cases.CaseNumber(n), num)
	fmt.Fprintln(c.stdout, sharedLater)
	return nil
}
