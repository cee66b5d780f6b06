package intake

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// readableBy follows the file modes as the kernel would for another user:
// the owner's bits, else the group's, else everyone's, on the file and on
// every folder above it.
func TestReadableBy(t *testing.T) {
	top, err := os.MkdirTemp("", "hearken-readable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(top) })
	etc := filepath.Join(top, "etc")
	file := filepath.Join(etc, "team.txt")
	if err := os.Mkdir(etc, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("# team\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	os.Chmod(top, 0o755)
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	gid := strconv.Itoa(int(fileGID(fi)))
	owner := &user.User{Uid: strconv.Itoa(os.Getuid()), Gid: "99997"}
	inGroup := &user.User{Uid: "99999", Gid: gid}
	stranger := &user.User{Uid: "99998", Gid: "99998"}
	// A missing file is an error of its own, not a closed one.
	var closed *closedError
	if err := readableBy(filepath.Join(etc, "missing.txt"), owner); err == nil || errors.As(err, &closed) {
		t.Errorf("a missing file: %v", err)
	}
	for _, c := range []struct {
		name    string
		u       *user.User
		mode    os.FileMode
		dirMode os.FileMode
		want    string // "" readable, else the path that is closed
	}{
		{"owner", owner, 0o600, 0o700, ""},
		{"group", inGroup, 0o640, 0o750, ""},
		{"group, file closed", inGroup, 0o600, 0o750, file},
		{"group, folder closed", inGroup, 0o640, 0o700, etc},
		{"stranger", stranger, 0o640, 0o750, etc},
		{"stranger, all open", stranger, 0o644, 0o755, ""},
		{"owner's bits rule the owner", owner, 0o040, 0o750, file},
	} {
		os.Chmod(file, c.mode)
		os.Chmod(etc, c.dirMode)
		err := readableBy(file, c.u)
		var closed *closedError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (!errors.As(err, &closed) || closed.path != c.want):
			t.Errorf("%s: %v, want %s closed", c.name, err, c.want)
		}
	}
}
