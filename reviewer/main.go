package reviewer

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

const usage = `reviewer: the safeguarding team's tool for Hearken reports.

First time:
  reviewer keygen --name "Your Name" [--out DIR]
                                  make your keys (in DIR, default the store
                                  folder); give member.pub to IT
  reviewer init --server URL [--proxy socks5://127.0.0.1:9050]
                                  remember the server (http://HOST:PORT,
                                  unix:/path/to/staff.sock or an onion
                                  address) and, for an onion server, Tor's
                                  SOCKS proxy; --proxy off forgets the proxy.
                                  Without one, an onion server is reached
                                  through Tor Browser (127.0.0.1:9150), else
                                  the tor service (127.0.0.1:9050). The proxy
                                  is never used for a unix: server or one on
                                  this computer.
      [--tor-control ADDR|off|auto] [--onion-auth-dir DIR|auto]
                                  where tor takes your onion key for the staff
                                  onion: its control port (default: the tor
                                  service's unix:/run/tor/control or
                                  127.0.0.1:9051), else the folder it reads
                                  keys from at start (default: Tor Browser's)
  reviewer init --team FILE [--route ROUTE]
                                  remember who replies on a route are sealed to
  reviewer init --lang CODE|auto   the language of the desk's guidance for the
                                  lead: en, ar, es, fr or zh (or a folder of
                                  your own in STORE/guidance/); auto follows
                                  this computer's language, else English
  reviewer onion-key              print your member.pub line, first adding an
                                  onion key to an identity made without one
Every day:
  reviewer serve [--listen 127.0.0.1:PORT] [--idle-lock 15m] [--sync-every 5m] [--lang CODE]
                                  the desk in your web browser: the inbox,
                                  cases, replies, triage and statistics. It
                                  listens on this computer only (default: a
                                  free port) and prints an address that works
                                  once; asks for your passphrase on the page;
                                  locks itself after --idle-lock without use;
                                  syncs every --sync-every (0: only when
                                  asked); --lang picks the language of the
                                  guidance for the lead, for this time (see
                                  reviewer init --lang).
  reviewer sync [--server URL] [--proxy URL|off] [--again] [--json]
      [--tor-control ADDR|off] [--onion-auth-dir DIR]
                                  fetch new reports, send your replies; a new
                                  report that says someone may be in danger
                                  now is named on the first line. --server,
                                  --proxy, --tor-control and --onion-auth-dir
                                  apply to this sync only. --again first asks
                                  the server to send every item it still
                                  holds for you (on a new computer, or after
                                  restoring an old backup); what is here
                                  already is not stored twice.
  reviewer list [--json]          cases, most pressing first: a case whose
                                  reporter says someone is in danger now
                                  (DANGER column YES) comes first until it is
                                  triaged, then immediate and high urgency
  reviewer show CASE [--json]     read a case (CASE is like HK-7K3M-Q9XD)
  reviewer reply CASE --message TEXT [--team FILE]
                                  answer the reporter (or --message-file F)
  reviewer triage CASE [--status S] [--category C] [--urgency U] [--assign NAME]
  reviewer handle CASE [--stop]   tell the team you are handling the case
                                  (--stop: you no longer are)
  reviewer note CASE --message TEXT [--corrects N]
                                  add to the chronology (or --message-file F);
                                  --corrects N marks it a correction of entry N
  reviewer resolve CASE --keep FINGERPRINT
                                  when a case has been given two reply keys:
                                  say which is the reporter's (compare the
                                  fingerprints show gives with colleagues)
  reviewer handover CASE|--all    seal a case's history again for the team as
                                  your team file has it now, for a member who
                                  joined after it began
  reviewer export CASE --out FILE.html        printable record for a referral
  reviewer attachments CASE --out DIR          save the case's photos and files,
                                  named by the type of their content (.bin,
                                  with a warning, for anything else)
  reviewer export-sealed CASE --out DIR        the case's items as received (.age files)
  reviewer export-age-identity --out FILE     your plain age key, for the age tool
  reviewer help                   this text
Backup (what you need if this computer is lost):
  reviewer backup --out FILE      your identity, cases and settings in one
                                  file encrypted with your passphrase; keep
                                  it away from this computer
  reviewer restore --from FILE [--replace]
                                  put a backup in place on a new computer;
                                  --replace replaces a case store already
                                  there (kept as cases.db.before-restore)
After a restore, run reviewer sync --again: the server sends every item it
still holds for you, so what arrived since the backup comes back too. While
reviewer serve runs, make the backup on the desk's Backup page.

--json writes what a script reads: sync, list and show each carry
danger_now; characters a terminal would act on are written as \u escapes.

Case numbers (like HK-7K3M-Q9XD) are the same on every computer of the
team. Type them in any case, with or without spaces and hyphens, or only
HK- and their start when no other case begins the same way (HK-7K3M). A case this
computer numbered HK-0001 before numbers were shared is still found by it.

Triage, handle and note are shared with the team: each change is signed by
you and sealed so only the route's team can read it, goes out with your
next sync, and shows on colleagues' computers after theirs. When two of you
change the same thing without having seen the other's change, show says so
and which one it shows.

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

	// pass is the passphrase that opened the identity file, kept while the
	// command runs so that adding an onion key does not ask again.
	pass string
}

// Main runs the reviewer command line and returns the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	err := c.run(args)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "reviewer: %s\n", clean(withHint(err)))
	if h := hintOf(err); h != "" {
		fmt.Fprintf(stderr, "reviewer: hint: %s\n", clean(h))
	}
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
			return nil, errUsage{fmt.Sprintf("%s needs one case number, like HK-7K3M-Q9XD", fs.Name())}
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
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprint(c.stdout, usage)
		return nil
	}
	if run, ok := c.commands()[cmd]; ok {
		return run(flag.NewFlagSet(cmd, flag.ContinueOnError), rest)
	}
	return errUsage{fmt.Sprintf("unknown command %q", cmd)}
}

// commands are reviewer's commands by name. Each defines its options on
// the flag set it is given, then parses them before it does anything else.
func (c *cli) commands() map[string]func(*flag.FlagSet, []string) error {
	return map[string]func(*flag.FlagSet, []string) error{
		"keygen":              c.keygen,
		"init":                c.init,
		"sync":                c.sync,
		"list":                c.list,
		"show":                c.show,
		"reply":               c.reply,
		"triage":              c.triage,
		"handle":              c.handle,
		"note":                c.note,
		"resolve":             c.resolve,
		"handover":            c.handover,
		"export":              c.export,
		"attachments":         c.attachments,
		"export-sealed":       c.exportSealed,
		"export-age-identity": c.exportAgeIdentity,
		"onion-key":           c.onionKey,
		"serve":               c.serve,
		"backup":              c.backup,
		"restore":             c.restore,
	}
}

// caseArg reads a command's one CASE argument: a case number, the start
// of one, or this computer's former number for a case. It is checked
// before any passphrase is asked for, and resolved by openCase.
func (c *cli) caseArg(fs *flag.FlagSet, args []string) (string, error) {
	pos, err := c.parse(fs, args, 1)
	if err != nil {
		return "", err
	}
	if err := cases.CheckCaseRef(pos[0]); err != nil {
		return "", errUsage{err.Error()}
	}
	return pos[0], nil
}

// openCase opens the store and finds the case ref names.
func (c *cli) openCase(ref string) (*vault.Member, *cases.Store, uint64, error) {
	m, st, err := c.openStore(false)
	if err != nil {
		return nil, nil, 0, err
	}
	n, err := st.FindCase(ref)
	if err != nil {
		st.Close()
		return nil, nil, 0, err
	}
	return m, st, n, nil
}

// caseAndOut reads the CASE argument and the --out option that export,
// attachments and export-sealed share; what names --out's value for the
// usage message.
func (c *cli) caseAndOut(fs *flag.FlagSet, args []string, what string) (string, string, error) {
	out := fs.String("out", "", "")
	ref, err := c.caseArg(fs, args)
	if err != nil {
		return "", "", err
	}
	if *out == "" {
		return "", "", errUsage{fs.Name() + " needs --out " + what}
	}
	return ref, *out, nil
}
