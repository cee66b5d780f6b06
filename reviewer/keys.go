package reviewer

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hearken-project/hearken/vault"
)

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

// writeNew creates path with O_EXCL and mode 0600; it never overwrites.
func writeNew(path string, data []byte) error {
	err := vault.WriteNewFile(path, data, 0o600)
	if errors.Is(err, vault.ErrExists) {
		return fmt.Errorf("%s already exists; it will not be overwritten: choose another name", path)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
