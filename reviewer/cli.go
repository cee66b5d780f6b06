package reviewer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/hearken-project/hearken/vault"
	"golang.org/x/term"
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
	fmt.Fprintf(stderr, "reviewer: %s\n", clean(err.Error()))
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

func (c *cli) identityPath() string {
	if c.identity != "" {
		return c.identity
	}
	return filepath.Join(c.store, "member.identity")
}

// passphrase reads the passphrase from --passphrase-file or the terminal.
func (c *cli) passphrase(prompt string, twice bool) (string, error) {
	if c.passFile != "" {
		f, err := os.Open(c.passFile)
		if err != nil {
			return "", fmt.Errorf("failed to open the passphrase file: %w", err)
		}
		defer f.Close()
		line, err := bufio.NewReader(io.LimitReader(f, 1024)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", errors.New("failed to read the passphrase file")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", errors.New("a passphrase is needed: run this in a terminal, or use --passphrase-file FILE")
	}
	read := func(p string) (string, error) {
		fmt.Fprint(c.stderr, p)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", errors.New("failed to read the passphrase")
		}
		return string(b), nil
	}
	p, err := read(prompt)
	if err != nil || !twice {
		return p, err
	}
	again, err := read("Type it again: ")
	if err != nil {
		return "", err
	}
	if again != p {
		return "", errors.New("the two passphrases were different; nothing was created, try again")
	}
	return p, nil
}

func (c *cli) loadMember() (*vault.Member, error) {
	path := c.identityPath()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("there is no identity at %s: make one with reviewer keygen --name \"Your Name\", or give --identity", path)
	}
	p, err := c.passphrase("Passphrase for your Hearken identity: ", false)
	if err != nil {
		return nil, err
	}
	m, err := vault.LoadMember(path, p)
	if errors.Is(err, vault.ErrWrongPassphrase) {
		return nil, fmt.Errorf("that passphrase does not open %s (passphrases are case-sensitive); nothing was changed", path)
	}
	return m, err
}

func (c *cli) openStore(create bool) (*vault.Member, *Store, error) {
	m, err := c.loadMember()
	if err != nil {
		return nil, nil, err
	}
	st, err := OpenStore(c.store, m, create)
	if err != nil {
		return nil, nil, err
	}
	return m, st, nil
}

func (c *cli) keygen(fs *flag.FlagSet, args []string) error {
	name := fs.String("name", "", "")
	out := fs.String("out", "", "")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return errUsage{"keygen needs --name \"Your Name\" (the name colleagues will see on your replies)"}
	}
	dir := *out
	if dir == "" {
		dir = c.store
	}
	idPath := filepath.Join(dir, "member.identity")
	if c.identity != "" && *out == "" {
		idPath = c.identity
	}
	pubPath := filepath.Join(filepath.Dir(idPath), "member.pub")
	for _, p := range []string{idPath, pubPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s already exists; keygen never overwrites keys (use another --out folder)", p)
		}
	}
	m, err := vault.GenerateMember(*name)
	if err != nil {
		return err
	}
	p, err := c.passphrase("Choose a passphrase for your Hearken identity: ", true)
	if err != nil {
		return err
	}
	if len([]rune(p)) < 8 {
		return errors.New("the passphrase is too short: use at least 8 characters (a few words is best); nothing was created")
	}
	if err := os.MkdirAll(filepath.Dir(idPath), 0o700); err != nil {
		return fmt.Errorf("failed to create the folder: %w", err)
	}
	if err := vault.SaveMember(idPath, m, p); err != nil {
		if errors.Is(err, vault.ErrExists) {
			return fmt.Errorf("%s already exists; keygen never overwrites keys", idPath)
		}
		return err
	}
	if err := writeNew(pubPath, []byte(m.TeamLine()+"\n")); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Created your identity: %s\n", idPath)
	fmt.Fprintf(c.stdout, "Created your public line: %s\n", pubPath)
	fmt.Fprintln(c.stdout, "Give member.pub (never member.identity) to the person who runs Hearken, to add to the team file.")
	fmt.Fprintln(c.stdout, "Keep your passphrase safe: without it nobody can open your reports, not even IT.")
	return nil
}

func (c *cli) init(fs *flag.FlagSet, args []string) error {
	team := fs.String("team", "", "")
	route := fs.String("route", "", "")
	server := fs.String("server", "", "")
	proxyURL := fs.String("proxy", "", "")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	if *route != "" && !routeName.MatchString(*route) {
		return errUsage{"a route name is 1 to 32 lower-case letters, digits and hyphens, as in the intake server's config"}
	}
	if *route != "" && *team == "" {
		return errUsage{"--route says which route a team file is for: give the file too, as in reviewer init --team FILE --route " + *route}
	}
	if *team == "" && *server == "" && *proxyURL == "" {
		return errUsage{"init needs --team FILE and/or --server URL"}
	}
	if err := os.MkdirAll(c.store, 0o700); err != nil {
		return fmt.Errorf("failed to create the store folder: %w", err)
	}
	if *server != "" || *proxyURL != "" {
		cfg, err := LoadConfig(c.store)
		if err != nil {
			return err
		}
		if *server != "" {
			cfg.Server = *server
		}
		if *proxyURL != "" {
			cfg.Proxy = *proxyURL
		}
		if _, err := NewClient(cfg.Server, cfg.Proxy, nil); err != nil {
			return err
		}
		if err := SaveConfig(c.store, cfg); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Server saved: reviewer sync will use %s\n", cfg.Server)
	}
	if *team != "" {
		routes, err := StoreRoutes(c.store)
		if err != nil {
			return err
		}
		t, forRoute, err := InstallTeam(c.store, *team, *route, routes)
		if err != nil {
			return err
		}
		if forRoute != "" {
			fmt.Fprintf(c.stdout, "Team saved for route %s: %d members; replies on that route will be sealed to them and to the reporter.\n", forRoute, len(t.Members))
		} else {
			fmt.Fprintf(c.stdout, "Team saved: %d members; replies will be sealed to them and to the reporter while all your cases are of one route. For more than one route, run reviewer init --team FILE --route ROUTE for each.\n", len(t.Members))
		}
		if pub, err := os.ReadFile(filepath.Join(filepath.Dir(c.identityPath()), "member.pub")); err == nil {
			fields := strings.Fields(string(pub))
			found := false
			for _, tm := range t.Members {
				if len(fields) >= 2 && vault.FormatSigningKey(tm.SignKey) == fields[1] {
					found = true
				}
			}
			if !found {
				fmt.Fprintln(c.stderr, "Warning: your own member.pub is not in this team file; ask the person who runs Hearken to add it.")
			}
		}
	}
	return nil
}

func (c *cli) sync(fs *flag.FlagSet, args []string) error {
	server := fs.String("server", "", "")
	proxyURL := fs.String("proxy", "", "")
	asJSON := fs.Bool("json", false, "")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := LoadConfig(c.store)
	if err != nil {
		return err
	}
	if *server != "" {
		cfg.Server = *server
	}
	if *proxyURL != "" {
		cfg.Proxy = *proxyURL
	}
	res, err := c.runSync(cfg, errUsage{"sync needs to know the server: run reviewer init --server URL once, or give --server URL"})
	if *asJSON {
		out := struct {
			*SyncResult
			Error string `json:"error,omitempty"`
		}{res, ""}
		if res == nil {
			out.SyncResult = &SyncResult{KindCount: map[string]int{}}
		}
		if err != nil {
			out.Error = "sync stopped: " + err.Error()
		}
		if werr := writeJSON(c.stdout, out); werr != nil && err == nil {
			err = werr
		}
	} else {
		c.printSync(res)
	}
	if err != nil {
		var u errUsage
		if errors.As(err, &u) {
			return err
		}
		return fmt.Errorf("sync stopped: %w", err)
	}
	return nil
}

// runSync opens the store and syncs it with the configured server.
func (c *cli) runSync(cfg Config, noServer error) (*SyncResult, error) {
	if cfg.Server == "" {
		return nil, noServer
	}
	m, st, err := c.openStore(true)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	client, err := NewClient(cfg.Server, cfg.Proxy, m)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return Sync(ctx, st, client)
}

func (c *cli) printSync(res *SyncResult) {
	if res == nil {
		return
	}
	fmt.Fprintf(c.stdout, "Received %d new items (%d reports, %d follow-ups, %d replies from colleagues); %d new cases.\n",
		res.Received, res.KindCount[string(vault.KindReport)], res.KindCount[string(vault.KindFollowUp)],
		res.KindCount[string(vault.KindReply)], len(res.NewCases))
	if res.Pushed > 0 {
		fmt.Fprintf(c.stdout, "Sent %d replies.\n", res.Pushed)
	}
	if res.Failed > 0 {
		fmt.Fprintf(c.stdout, "%d replies could not be delivered (see reviewer show); they are kept here.\n", res.Failed)
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
		fmt.Fprintf(c.stdout, "%d items set aside in this sync.\n", n)
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

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
	cases, err := st.List()
	if err != nil {
		return err
	}
	if *asJSON {
		if cases == nil {
			cases = []CaseSummary{}
		}
		return writeJSON(c.stdout, cases)
	}
	return WriteList(c.stdout, cases)
}

// WriteList prints cases as a table.
func WriteList(w io.Writer, cases []CaseSummary) error {
	if len(cases) == 0 {
		_, err := fmt.Fprintln(w, "No cases yet. Run reviewer sync to fetch new reports.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tTAG\tURGENCY\tSTATUS\tWAITING\tCATEGORY\tRECEIVED\tREPORT")
	for _, cs := range cases {
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

func (c *cli) caseArg(fs *flag.FlagSet, args []string) (uint64, error) {
	pos, err := c.parse(fs, args, 1)
	if err != nil {
		return 0, err
	}
	n, err := ParseCaseNumber(pos[0])
	if err != nil {
		return 0, errUsage{err.Error()}
	}
	return n, nil
}

func (c *cli) show(fs *flag.FlagSet, args []string) error {
	asJSON := fs.Bool("json", false, "")
	n, err := c.caseArg(fs, args)
	if err != nil {
		return err
	}
	_, st, err := c.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()
	cv, err := st.Show(n)
	if err != nil {
		return fmt.Errorf("%s: %w", CaseNumber(n), err)
	}
	if *asJSON {
		return writeJSON(c.stdout, cv)
	}
	WriteCase(c.stdout, cv)
	return nil
}

// WriteCase prints a case for reading in a terminal.
func WriteCase(w io.Writer, cv *CaseView) {
	fmt.Fprintf(w, "Case %s (tag #%s)   route %s   first received %s\n", cv.Case, clean(cv.Tag), clean(cv.Route), clean(cv.Received))
	fmt.Fprintf(w, "Status: %s   Category: %s   Urgency: %s   Assigned: %s\n",
		clean(cv.Status), clean(dash(cv.Category)), clean(dash(cv.Urgency)), clean(dash(cv.Assigned)))
	if cv.Notice != "" {
		fmt.Fprintf(w, "!! %s\n", clean(cv.Notice))
	}
	for _, m := range cv.Messages {
		fmt.Fprintln(w)
		head := kindLabel(m.Kind)
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
			fmt.Fprintf(w, "%s:\n", clean(fieldLabel(f.Name)))
			for _, line := range strings.Split(f.Value, "\n") {
				fmt.Fprintf(w, "  %s\n", clean(line))
			}
		}
		for _, a := range m.Attachments {
			note := ""
			if !a.Cleaned {
				note = ", identifying details not removed"
			}
			fmt.Fprintf(w, "Attachment: %s (%s, %d bytes%s)\n", clean(a.Name), clean(a.Type), a.Size, note)
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

func (c *cli) reply(fs *flag.FlagSet, args []string) error {
	msg := fs.String("message", "", "")
	msgFile := fs.String("message-file", "", "")
	teamPath := fs.String("team", "", "")
	n, err := c.caseArg(fs, args)
	if err != nil {
		return err
	}
	text, err := messageArg(*msg, *msgFile)
	if err != nil {
		return err
	}
	if _, err := checkText("reply", text); err != nil {
		return errUsage{err.Error()}
	}
	var team *vault.Team
	if *teamPath != "" {
		if team, err = vault.LoadTeam(*teamPath); err != nil {
			return err
		}
	}
	m, st, err := c.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()
	cv, err := st.Show(n)
	if err != nil {
		return fmt.Errorf("%s: %w", CaseNumber(n), err)
	}
	if team == nil {
		routes, err := st.Routes()
		if err != nil {
			return err
		}
		if team, err = TeamFor(c.store, cv.Route, routes); err != nil {
			return fmt.Errorf("%s: %w", CaseNumber(n), err)
		}
	}
	if _, ok := team.Lookup(m.SigningPublic()); !ok {
		fmt.Fprintln(c.stderr, "Warning: you are not in your team file; your reply is sealed to you as well, so you can still read it.")
	}
	if _, err := st.Reply(n, text, team); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Reply to %s saved and queued. Run reviewer sync to send it.\n", CaseNumber(n))
	return nil
}

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
		data, err := io.ReadAll(io.LimitReader(f, maxMessage+1))
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
	var ch TriageChange
	fs.StringVar(&ch.Status, "status", "", "")
	fs.StringVar(&ch.Category, "category", "", "")
	fs.StringVar(&ch.Urgency, "urgency", "", "")
	fs.StringVar(&ch.Assign, "assign", "", "")
	n, err := c.caseArg(fs, args)
	if err != nil {
		return err
	}
	if ch == (TriageChange{}) {
		return errUsage{"triage needs at least one of --status, --category, --urgency, --assign"}
	}
	// Check the words before asking for a passphrase.
	for _, v := range []struct {
		s string
		f func(string) (string, error)
	}{{ch.Status, ParseStatus}, {ch.Category, ParseCategory}, {ch.Urgency, ParseUrgency}, {ch.Assign, parseAssign}} {
		if v.s != "" {
			if _, err := v.f(v.s); err != nil {
				return errUsage{err.Error()}
			}
		}
	}
	_, st, err := c.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()
	t, err := st.SetTriageFields(n, ch)
	if err != nil {
		return fmt.Errorf("%s: %w", CaseNumber(n), err)
	}
	fmt.Fprintf(c.stdout, "%s: status %s, category %s, urgency %s, assigned %s\n",
		CaseNumber(n), t.Status, dash(t.Category), dash(t.Urgency), dash(t.Assigned))
	return nil
}

func (c *cli) note(fs *flag.FlagSet, args []string) error {
	msg := fs.String("message", "", "")
	msgFile := fs.String("message-file", "", "")
	corrects := fs.Uint64("corrects", 0, "")
	n, err := c.caseArg(fs, args)
	if err != nil {
		return err
	}
	text, err := messageArg(*msg, *msgFile)
	if err != nil {
		return err
	}
	if _, err := checkText("note", text); err != nil {
		return errUsage{err.Error()}
	}
	_, st, err := c.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()
	num, err := st.AddNote(n, text, *corrects)
	if err != nil {
		return fmt.Errorf("%s: %w", CaseNumber(n), err)
	}
	fmt.Fprintf(c.stdout, "%s: entry #%d added to the chronology.\n", CaseNumber(n), num)
	return nil
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

func (c *cli) export(fs *flag.FlagSet, args []string) error {
	n, out, err := c.caseAndOut(fs, args, "FILE.html")
	if err != nil {
		return err
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("%s already exists; it will not be overwritten: choose another name", out)
	}
	_, st, err := c.openStore(false)
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
	n, out, err := c.caseAndOut(fs, args, "DIR")
	if err != nil {
		return err
	}
	_, st, err := c.openStore(false)
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
		fmt.Fprintf(c.stdout, "%s%s\n", a.Path, note)
	}
	if err != nil {
		return err
	}
	if len(saved) == 0 {
		fmt.Fprintf(c.stdout, "%s has no attachments.\n", CaseNumber(n))
		return nil
	}
	fmt.Fprintln(c.stderr, "Warning: these files are NOT encrypted. Look at them on this computer only, and delete them when you are done.")
	return nil
}

// exportSealed writes a case's items exactly as they arrived, one .age file
// each, so they can be opened with the standard age tool or handed on still
// encrypted. Nothing is decrypted.
func (c *cli) exportSealed(fs *flag.FlagSet, args []string) error {
	n, out, err := c.caseAndOut(fs, args, "DIR")
	if err != nil {
		return err
	}
	_, st, err := c.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()
	items, err := st.SealedItems(n)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return fmt.Errorf("failed to create %s: %w", out, err)
	}
	for i, it := range items {
		name := filepath.Join(out, fmt.Sprintf("%s-%02d-%s-%s.age", CaseNumber(n), i+1, it.Kind, it.Day))
		if err := writeNew(name, it.Sealed); err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, name)
	}
	return nil
}

func (c *cli) exportAgeIdentity(fs *flag.FlagSet, args []string) error {
	out := fs.String("out", "", "")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	if *out == "" {
		return errUsage{"export-age-identity needs --out FILE"}
	}
	m, err := c.loadMember()
	if err != nil {
		return err
	}
	data := "# Hearken identity of " + m.Name + ": NOT ENCRYPTED. Anyone with this file can open your team's reports.\n" +
		"# Use it with: age -d -i THIS-FILE item.age   and delete it when done.\n" +
		m.Identity().String() + "\n"
	if err := writeNew(*out, []byte(data)); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Wrote %s.\n", *out)
	fmt.Fprintln(c.stderr, "Warning: this file holds your secret key without a passphrase. Keep it on this computer only and delete it when you are done.")
	return nil
}
