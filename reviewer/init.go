package reviewer

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

func (c *cli) init(fs *flag.FlagSet, args []string) error {
	team := fs.String("team", "", "")
	route := fs.String("route", "", "")
	server := fs.String("server", "", "")
	proxyURL := fs.String("proxy", "", "")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	if *route != "" && !cases.ValidRoute(*route) {
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
		cfg, err := cases.LoadConfig(c.store)
		if err != nil {
			return err
		}
		if *server != "" {
			cfg.Server = *server
		}
		if *proxyURL != "" {
			cfg.Proxy = *proxyURL
		}
		if _, err := cases.NewClient(cfg.Server, cfg.Proxy, nil); err != nil {
			return err
		}
		if err := cases.SaveConfig(c.store, cfg); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Server saved: reviewer sync will use %s\n", cfg.Server)
	}
	if *team != "" {
		t, forRoute, err := cases.InstallTeam(c.store, *team, *route)
		if err != nil {
			return err
		}
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
