package reviewer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
	"golang.org/x/term"
)

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
	if err == nil {
		c.pass = p
	}
	return m, err
}

func (c *cli) openStore(create bool) (*vault.Member, *cases.Store, error) {
	m, err := c.loadMember()
	if err != nil {
		return nil, nil, err
	}
	st, err := cases.Open(c.store, m, create)
	if err != nil {
		return nil, nil, err
	}
	return m, st, nil
}
