package intake

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/hearken-project/hearken/internal/onion"
	"github.com/hearken-project/hearken/vault"
)

// The staff onion service is the second onion service in deploy/torrc: the
// team's reviewer reaches the staff channel through it, and tor lets only
// clients whose key is in its HiddenServiceDir/authorized_clients/ so much
// as find it. intake init and intake check keep that folder in step with
// the team files: one file for each member's onion key, named after a hash
// of the key (never a display name), and the files of members taken out of
// every team removed.
const (
	authorizedClients = "authorized_clients"
	// authPrefix marks the files intake writes; .auth files without it are
	// someone else's and are left alone (check names them).
	authPrefix = "hearken-"
	// nobodyFile holds a key whose secret half was thrown away. tor treats a
	// service with no authorized client as open to everyone, so while no
	// member has an onion key, this keeps the staff onion closed to all.
	nobodyFile = authPrefix + "nobody.auth"
)

// errTorPermission means intake may not write tor's files: check and init
// need root for that on a real server.
var errTorPermission = errors.New("no permission to write tor's files")

// authSync says what syncing authorized_clients did.
type authSync struct {
	Dir               string   // the authorized_clients folder
	Keys              int      // members' keys it now holds
	Added, Removed    int      // files written and removed by this run
	Nobody            bool     // no member has a key: the nobody key keeps it closed
	Foreign           []string // .auth files intake did not write, left alone
	WithoutKeys       []string // members (by name) whose line has no onion key
	CreatedServiceDir bool     // the HiddenServiceDir itself was made by this run
}

// authFileName is a member key's file name: a hash of the public key, so
// the name says nothing about who it belongs to and one key is one file
// however many routes list it.
func authFileName(k onion.ClientPublicKey) string {
	sum := sha256.Sum256([]byte(k.String()))
	return authPrefix + hex.EncodeToString(sum[:8]) + ".auth"
}

// syncAuthorizedClients makes hsDir/authorized_clients hold exactly one
// file for each onion key in teams (or the nobody key if there are none),
// removing intake's files for keys no team lists. Run as root, new folders
// and files are given to the owner of the folder above them, which is tor's
// user on a real server, so tor can read them after it drops root. Files
// are replaced atomically, so tor never reads half a key.
func syncAuthorizedClients(hsDir string, teams []*vault.Team) (*authSync, error) {
	res := &authSync{Dir: filepath.Join(hsDir, authorizedClients)}
	want := map[string]string{}
	for _, t := range teams {
		for _, m := range t.Members {
			if m.OnionKey.IsZero() {
				if !slices.Contains(res.WithoutKeys, m.Name) {
					res.WithoutKeys = append(res.WithoutKeys, m.Name)
				}
				continue
			}
			want[authFileName(m.OnionKey)] = m.OnionKey.String() + "\n"
		}
	}
	res.Keys = len(want)

	created, err := makePrivateDir(hsDir)
	if err != nil {
		return nil, err
	}
	res.CreatedServiceDir = created
	if _, err := makePrivateDir(res.Dir); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(res.Dir)
	if err != nil {
		return nil, torFileError(err)
	}
	have := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		switch {
		case !strings.HasSuffix(name, ".auth"):
		case !strings.HasPrefix(name, authPrefix):
			res.Foreign = append(res.Foreign, name)
		default:
			have[name] = true
		}
	}

	if len(want) == 0 {
		res.Nobody = true
		if !have[nobodyFile] {
			k, err := onion.GenerateClientKey()
			if err != nil {
				return nil, err
			}
			want[nobodyFile] = k.Public().String() + "\n"
		} else {
			want[nobodyFile] = "" // keep the one there
		}
	}
	for name, content := range want {
		if content == "" {
			continue
		}
		if old, err := os.ReadFile(filepath.Join(res.Dir, name)); err == nil && string(old) == content {
			continue
		}
		if err := writeTorFile(res.Dir, name, content); err != nil {
			return nil, err
		}
		res.Added++
	}
	// Remove only after the new keys are in place, so the folder never holds
	// no key at all (which tor would read as "open to everyone").
	for name := range have {
		if _, ok := want[name]; ok {
			continue
		}
		if err := os.Remove(filepath.Join(res.Dir, name)); err != nil {
			return nil, torFileError(err)
		}
		res.Removed++
	}
	slices.Sort(res.Foreign)
	return res, nil
}

// makePrivateDir makes dir with mode 0700, as tor insists for its own
// folders, owned like the folder above it when run as root. It reports
// whether it made it. An existing dir is left as it is: tor checks it.
func makePrivateDir(dir string) (bool, error) {
	dir = filepath.Clean(dir)
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return false, fmt.Errorf("%s is not a folder", dir)
		}
		return false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return false, torFileError(err)
	}
	if _, err := os.Stat(filepath.Dir(dir)); errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("cannot make %s: %s does not exist (is tor installed?)", dir, filepath.Dir(dir))
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return false, torFileError(err)
	}
	if err := chownLikeParent(dir, filepath.Dir(dir)); err != nil {
		return false, err
	}
	return true, nil
}

// writeTorFile writes name in dir through a temporary file and a rename,
// with mode 0600, owned like dir when run as root.
func writeTorFile(dir, name, content string) error {
	tmp := filepath.Join(dir, "."+name+".tmp")
	os.Remove(tmp)
	if err := vault.WriteNewFile(tmp, []byte(content), 0o600); err != nil {
		return torFileError(err)
	}
	if err := chownLikeParent(tmp, dir); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return torFileError(err)
	}
	return nil
}

// chownLikeParent gives path the owner and group of parent, when running
// as root; otherwise the files are the caller's own, as tor running as the
// same user (or a test) needs.
func chownLikeParent(path, parent string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(parent)
	if err != nil {
		return torFileError(err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if err := os.Chown(path, int(st.Uid), int(st.Gid)); err != nil {
		return torFileError(err)
	}
	return nil
}

func torFileError(err error) error {
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("%w: %w", errTorPermission, err)
	}
	return fmt.Errorf("failed to write tor's files: %w", err)
}

// summary describes the sync for intake check and init.
func (s *authSync) summary() []string {
	var lines []string
	switch {
	case s.Nobody:
		lines = append(lines, fmt.Sprintf("staff onion: no team member has an onion key yet, so nobody can reach it (%s)", s.Dir))
	default:
		lines = append(lines, fmt.Sprintf("staff onion: %d member keys in %s", s.Keys, s.Dir))
	}
	if s.Added > 0 || s.Removed > 0 {
		lines = append(lines, fmt.Sprintf("staff onion: %d key files written, %d removed; tor reads them when it reloads", s.Added, s.Removed))
	}
	if len(s.WithoutKeys) > 0 {
		lines = append(lines, fmt.Sprintf("note: no onion key in the team line of %s: they cannot use the staff onion until they run \"reviewer onion-key\" and you replace their line with the one it prints", strings.Join(s.WithoutKeys, ", ")))
	}
	for _, f := range s.Foreign {
		lines = append(lines, fmt.Sprintf("warning: %s was not written by intake and also lets its key reach the staff onion; remove it unless that is meant", filepath.Join(s.Dir, f)))
	}
	return lines
}
