package reviewer

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hearken-project/hearken/vault"
)

// onionKey prints the member's line for the team files, first giving an
// identity made before onion keys existed its onion key.
func (c *cli) onionKey(fs *flag.FlagSet, args []string) error {
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	m, err := c.loadMember()
	if err != nil {
		return err
	}
	m, added, err := c.ensureOnionKey(m)
	if err != nil {
		return err
	}
	if !added {
		fmt.Fprintln(c.stdout, "Your identity has an onion key. Your line for the team files (as in member.pub):")
	}
	fmt.Fprintln(c.stdout, m.TeamLine())
	return nil
}

// ensureOnionKey gives m's identity file an onion key if it has none (see
// vault.AddOnionKey), rewrites member.pub beside it with the new line, and
// says what happened and what to do next. It returns the member with the
// key and whether one was added.
func (c *cli) ensureOnionKey(m *vault.Member) (*vault.Member, bool, error) {
	if m.OnionKey() != nil {
		return m, false, nil
	}
	path := c.identityPath()
	m, added, err := vault.AddOnionKey(path, c.pass)
	if err != nil || !added {
		return m, added, err
	}
	pub := filepath.Join(filepath.Dir(path), "member.pub")
	if err := replaceFile(pub, []byte(m.TeamLine()+"\n")); err != nil {
		return nil, false, err
	}
	fmt.Fprintf(c.stderr, "Your identity had no onion key, which the staff onion service needs; reviewer made one and added it to %s (the file as it was is kept as %s.before-onion-key).\n", path, filepath.Base(path))
	fmt.Fprintf(c.stderr, "Your new line for the team files is in %s. Send it to the person who runs Hearken: it replaces your old line, and you can reach the staff onion once they have put it in and run intake check.\n", pub)
	return m, true, nil
}

// replaceFile writes path through a temporary file and a rename, mode 0600.
func replaceFile(path string, data []byte) error {
	tmp := path + ".new"
	os.Remove(tmp)
	if err := writeNew(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return nil
}
