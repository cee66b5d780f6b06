package reviewer

import (
	"bytes"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/hearken-project/hearken/internal/onion"
	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/reviewer/desk"
	"github.com/hearken-project/hearken/vault"
)

func (c *cli) init(fs *flag.FlagSet, args []string) error {
	team := fs.String("team", "", "")
	route := fs.String("route", "", "")
	server := fs.String("server", "", "")
	proxyURL := fs.String("proxy", "", "")
	control := fs.String("tor-control", "", "")
	authDir := fs.String("onion-auth-dir", "", "")
	lang := fs.String("lang", "", "")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	if *route != "" && !cases.ValidRoute(*route) {
		return errUsage{"a route name is 1 to 32 lower-case letters, digits and hyphens, as in the intake server's config"}
	}
	if *route != "" && *team == "" {
		return errUsage{"--route says which route a team file is for: give the file too, as in reviewer init --team FILE --route " + *route}
	}
	if *team == "" && *server == "" && *proxyURL == "" && *control == "" && *authDir == "" && *lang == "" {
		return errUsage{"init needs --team FILE and/or --server URL"}
	}
	if err := os.MkdirAll(c.store, 0o700); err != nil {
		return fmt.Errorf("failed to create the store folder: %w", err)
	}
	if *lang != "" {
		if err := c.saveLang(*lang); err != nil {
			return err
		}
	}
	if *server != "" || *proxyURL != "" || *control != "" || *authDir != "" {
		if err := c.saveConnection(*server, *proxyURL, *control, *authDir); err != nil {
			return err
		}
	}
	if *team != "" {
		before := recordedTeams(c.store)
		t, forRoute, err := cases.InstallTeam(c.store, *team, *route)
		if err != nil {
			return err
		}
		defer c.sayNewMembers(before, forRoute, t)
		if forRoute != "" {
			fmt.Fprintf(c.stdout, "Team saved for route %s: %s; replies on that route will be sealed to %s and to the reporter.\n", forRoute, count(len(t.Members), "member", "members"), pick(len(t.Members), "that member", "them"))
		} else {
			fmt.Fprintf(c.stdout, "Team saved: %s; replies will be sealed to %s and to the reporter while all your cases are of one route. For more than one route, run reviewer init --team FILE --route ROUTE for each.\n", count(len(t.Members), "member", "members"), pick(len(t.Members), "that member", "them"))
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

// saveLang saves the language of the desk's guidance, or with "auto"
// forgets it (the desk then follows this computer's language).
func (c *cli) saveLang(lang string) error {
	cfg, err := cases.LoadConfig(c.store)
	if err != nil {
		return err
	}
	if lang == "auto" {
		cfg.Lang = ""
	} else {
		if err := desk.CheckLang(c.store, lang); err != nil {
			return errUsage{err.Error()}
		}
		cfg.Lang = lang
	}
	if err := cases.SaveConfig(c.store, cfg); err != nil {
		return err
	}
	if cfg.Lang == "" {
		fmt.Fprintf(c.stdout, "The desk's guidance for the lead follows this computer's language: %s now.\n", deskLang("", "", os.Getenv))
	} else {
		fmt.Fprintf(c.stdout, "The desk's guidance for the lead is in %s.\n", cfg.Lang)
	}
	return nil
}

// deskLang is the language of the desk's guidance: the one asked for on
// the command line, else the saved one, else this computer's if the desk
// has guidance in it, else English.
func deskLang(flagLang, saved string, getenv func(string) string) string {
	switch {
	case flagLang != "":
		return flagLang
	case saved != "":
		return saved
	}
	if l := desk.LangFromEnv(getenv); l != "" {
		return l
	}
	return "en"
}

// proxyOff is the --proxy value that clears a saved proxy.
const proxyOff = "off"

// saveConnection saves the server and the proxy (or, with "off", clears
// the proxy) that sync uses, once they are checked, and says what sync
// will do with them.
func (c *cli) saveConnection(server, proxyArg, control, authDir string) error {
	cfg, err := cases.LoadConfig(c.store)
	if err != nil {
		return err
	}
	switch control {
	case "":
	case "auto":
		cfg.TorControl = ""
	default:
		if err := checkControl(control); err != nil {
			return err
		}
		cfg.TorControl = control
	}
	switch authDir {
	case "":
	case "auto":
		cfg.OnionAuthDir = ""
	default:
		abs, err := filepath.Abs(authDir)
		if err != nil {
			return err
		}
		cfg.OnionAuthDir = abs
	}
	if server != "" {
		cfg.Server = server
	}
	switch proxyArg {
	case "":
	case proxyOff:
		cfg.Proxy = ""
	default:
		cfg.Proxy = proxyArg
	}
	if err := cases.CheckProxy(cfg.Proxy); err != nil {
		return err
	}
	var client *cases.Client
	if cfg.Server != "" {
		if client, err = cases.NewClient(cfg.Server, cfg.Proxy, nil); err != nil {
			return err
		}
	}
	if err := cases.SaveConfig(c.store, cfg); err != nil {
		return err
	}
	if server != "" {
		fmt.Fprintf(c.stdout, "Server saved: reviewer sync will use %s\n", clean(cfg.Server))
	}
	switch {
	case control == "auto":
		fmt.Fprintln(c.stdout, "Tor's control port: reviewer sync looks in the usual places.")
	case control == "off":
		fmt.Fprintln(c.stdout, "Tor's control port: not used; the onion key goes into tor's key folder.")
	case control != "":
		fmt.Fprintf(c.stdout, "Tor's control port saved: %s\n", clean(cfg.TorControl))
	}
	switch {
	case authDir == "auto":
		fmt.Fprintln(c.stdout, "Tor's key folder: reviewer sync looks for Tor Browser's.")
	case authDir != "":
		fmt.Fprintf(c.stdout, "Tor's key folder saved: %s\n", clean(cfg.OnionAuthDir))
	}
	switch {
	case proxyArg == proxyOff:
		fmt.Fprintln(c.stdout, "Proxy cleared: reviewer sync connects to the server directly.")
	case client != nil && client.Onion() && cfg.Proxy == "":
		fmt.Fprintln(c.stdout, "reviewer sync reaches this onion server through Tor: Tor Browser's proxy (127.0.0.1:9150) if it is running, else the tor service's (127.0.0.1:9050).")
	case proxyArg != "" && client == nil:
		fmt.Fprintf(c.stdout, "Proxy saved: %s. Give the server with reviewer init --server URL.\n", proxyName(cfg.Proxy))
	case proxyArg != "" && client.Proxied():
		fmt.Fprintf(c.stdout, "Proxy saved: %s. reviewer sync reaches the server through it.\n", proxyName(cfg.Proxy))
	case proxyArg != "":
		fmt.Fprintf(c.stdout, "Proxy saved: %s. It is not used for this server, which is on this computer.\n", proxyName(cfg.Proxy))
	case cfg.Proxy != "" && client != nil && !client.Proxied():
		fmt.Fprintf(c.stdout, "The saved proxy (%s) is not used for this server, which is on this computer.\n", proxyName(cfg.Proxy))
	}
	return nil
}

// checkControl checks a --tor-control value: "off", "unix:/path" or a
// loopback host:port, where a tor on this computer listens.
func checkControl(s string) error {
	bad := errUsage{"--tor-control is tor's control port on this computer, like unix:/run/tor/control or 127.0.0.1:9051, or off"}
	if s == "off" {
		return nil
	}
	if p, ok := strings.CutPrefix(s, "unix:"); ok {
		if !filepath.IsAbs(p) {
			return bad
		}
		return nil
	}
	if _, err := onion.ParseProxy(s); err != nil || strings.Contains(s, "://") {
		return bad // the same rule as a proxy: a loopback host and a port
	}
	return nil
}

// proxyName is a proxy's scheme, host and port, without any user name or
// password it carries.
func proxyName(proxyURL string) string {
	u, err := url.Parse(proxyURL)
	if err != nil {
		return "(the proxy)"
	}
	return clean((&url.URL{Scheme: u.Scheme, Host: u.Host}).String())
}

// recordedTeams reads the team files recorded in the store folder, by
// path, so that init can tell who a new one adds.
func recordedTeams(dir string) map[string][]byte {
	out := map[string][]byte{}
	paths, _ := filepath.Glob(filepath.Join(dir, "teams", "*.txt"))
	for _, p := range append(paths, filepath.Join(dir, "team.txt")) {
		if data, err := os.ReadFile(p); err == nil {
			out[p] = data
		}
	}
	return out
}

// sayNewMembers names the members a new team file adds to the one it
// replaces: they cannot open what was sealed before they joined until a
// colleague hands the cases over.
func (c *cli) sayNewMembers(before map[string][]byte, route string, t *vault.Team) {
	p := filepath.Join(c.store, "team.txt")
	if route != "" {
		p = filepath.Join(c.store, "teams", route+".txt")
	}
	data, ok := before[p]
	if !ok {
		// The team given before the route was known.
		if data, ok = before[filepath.Join(c.store, "team.txt")]; !ok {
			return
		}
	}
	old, err := vault.ParseTeam(bytes.NewReader(data))
	if err != nil {
		return
	}
	var added []string
	for _, tm := range t.Members {
		if _, ok := old.Lookup(tm.SignKey); !ok {
			added = append(added, tm.Name)
		}
	}
	if len(added) > 0 {
		fmt.Fprintf(c.stdout, "New on the team: %s. What was sealed before they joined is not theirs to open until you hand it over: once the server has the new team file too, run reviewer handover --all, then reviewer sync.\n",
			clean(strings.Join(added, ", ")))
	}
}
