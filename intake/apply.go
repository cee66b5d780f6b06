package intake

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// intake check --apply puts changed team files into effect in one command:
// after the check, it has the running server read the team files again
// and tor its keys, through systemd (systemctl reload, which sends the
// server SIGHUP). It calls systemctl only when asked to, as root, on a
// machine systemd runs, and runs nothing else; otherwise it prints the
// commands that would do it. Tests put a fake systemctl on PATH.

// intakeUnits are the units deploy/ installs, in the order --apply looks
// for the one that is running.
var intakeUnits = []string{"hearken-intake.service", "hearken-intake-web.service"}

// torUnit is Debian's tor service; reloading it reloads its instances.
const torUnit = "tor.service"

// errNotApplied means --apply checked everything but could reload nothing.
var errNotApplied = errors.New("nothing was reloaded")

// applier runs systemctl for check --apply.
type applier struct {
	out       io.Writer
	systemctl string // its path; "" when not found
	unit      string // the server's unit, if --unit named it
	// noSystemd: systemd does not run this machine, so apply only says
	// what to do.
	noSystemd bool
}

func newApplier(out io.Writer, unit string) *applier {
	path, _ := exec.LookPath("systemctl")
	return &applier{out: out, systemctl: path, unit: unit}
}

// run runs systemctl with args and returns what it printed, trimmed.
func (a *applier) run(args ...string) (string, error) {
	cmd := exec.Command(a.systemctl, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// systemd reports whether systemd runs this machine: systemctl says
// "offline" (or fails to say anything) in a container without it.
func (a *applier) systemd() bool {
	if a.systemctl == "" {
		return false
	}
	out, _ := a.run("is-system-running")
	state, _, _ := strings.Cut(out, "\n")
	return state != "" && state != "offline" && !strings.Contains(out, "not been booted")
}

func (a *applier) active(unit string) bool {
	_, err := a.run("is-active", "--quiet", unit)
	return err == nil
}

// units are the server's units --apply looks for.
func (a *applier) units() []string {
	if a.unit != "" {
		return []string{a.unit}
	}
	return intakeUnits
}

// serverUnit finds the server's running unit: the one --unit named, or the
// first of intakeUnits that is active. "" if none runs.
func (a *applier) serverUnit() string {
	for _, u := range a.units() {
		if a.active(u) {
			return u
		}
	}
	return ""
}

// prepare is the part of --apply that runs before tor's files are written:
// it finds out how the changes can be applied, and checks that the running
// server's user can read the team files it is about to be told to read.
// It returns the server's unit ("" if none runs).
func (a *applier) prepare(cfg *config, configPath string) (string, error) {
	if os.Geteuid() != 0 {
		return "", withHint(errors.New("--apply needs root: it writes tor's keys for the staff onion and reloads tor and the server"),
			"run: sudo intake check --config %s --apply", configPath)
	}
	if !a.systemd() {
		a.noSystemd = true
		return "", nil
	}
	unit := a.serverUnit()
	if unit == "" {
		return "", nil
	}
	if can, _ := a.run("show", "--property=CanReload", "--value", unit); can != "yes" {
		return "", withHint(fmt.Errorf("%s cannot be reloaded: the unit installed was made before the server could read its team files again", unit),
			"install the unit from this version's deploy/ folder (it has ExecReload), run systemctl daemon-reload, then this again; or restart the server now: systemctl restart %s", unit)
	}
	name, _ := a.run("show", "--property=User", "--value", unit)
	if name == "" || name == "root" {
		return unit, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return "", fmt.Errorf("%s runs as %s, which this machine does not know: %w", unit, name, err)
	}
	group := u.Gid
	if g, err := user.LookupGroupId(u.Gid); err == nil {
		group = g.Name
	}
	for _, rt := range cfg.Routes {
		err := readableBy(rt.teamPath, u)
		var closed *closedError
		if errors.As(err, &closed) {
			bit := "r"
			if closed.dir {
				bit = "x"
			}
			return "", withHint(fmt.Errorf("the server runs as %s, which cannot read route %q's team file: %w; nothing was reloaded", name, rt.Name, err),
				"let the group %s in (chgrp %s %s && chmod g+%s %s), then run this again", group, group, closed.path, bit, closed.path)
		}
		if err != nil {
			return "", fmt.Errorf("route %q's team file: %w", rt.Name, err)
		}
	}
	return unit, nil
}

// closedError is a file, or a folder above it, that a user may not open.
type closedError struct {
	path string
	dir  bool
}

func (e *closedError) Error() string {
	if e.dir {
		return fmt.Sprintf("the folder %s is closed to it", e.path)
	}
	return fmt.Sprintf("%s is not readable by it", e.path)
}

// apply reloads the server's unit, then tor: the server refuses a member
// taken out from that moment, before tor stops admitting their computer.
func (a *applier) apply(cfg *config, unit string) error {
	if a.noSystemd {
		fmt.Fprintln(a.out, "This machine does not run systemd, so intake cannot reload anything itself. Apply the team files with:")
		fmt.Fprintln(a.out, "  kill -HUP <the process id of intake serve>")
		if cfg.StaffOnionDir != "" {
			fmt.Fprintln(a.out, "  kill -HUP <the process id of tor>")
		}
		return fmt.Errorf("%w: systemd does not run this machine; send the signals above", errNotApplied)
	}
	if unit == "" {
		fmt.Fprintf(a.out, "The server is not running (none of %s is active); it reads the team files when it starts: systemctl start %s\n",
			strings.Join(a.units(), ", "), a.units()[0])
	} else {
		if out, err := a.run("reload", unit); err != nil {
			return withHint(fmt.Errorf("systemctl reload %s failed: %s", unit, firstLine(out, err)),
				"see why: systemctl status %s; journalctl -u %s -n 20", unit, unit)
		}
		fmt.Fprintf(a.out, "Reloaded %s: it reads the team files again, and its log says \"team files reloaded\" (journalctl -u %s -n 5).\n", unit, unit)
	}
	if cfg.StaffOnionDir == "" {
		return nil
	}
	if !a.active(torUnit) {
		fmt.Fprintln(a.out, "tor is not running; it reads the staff onion's keys when it starts: systemctl start tor")
		return nil
	}
	if out, err := a.run("reload", torUnit); err != nil {
		return withHint(fmt.Errorf("systemctl reload %s failed: %s", torUnit, firstLine(out, err)), "see why: systemctl status tor; journalctl -u tor@default -n 20")
	}
	fmt.Fprintln(a.out, "Reloaded tor: it reads the staff onion's keys again.")
	return nil
}

func firstLine(out string, err error) string {
	if out == "" {
		return err.Error()
	}
	line, _, _ := strings.Cut(out, "\n")
	return line
}

// readableBy says whether u may read path: every folder above it open to
// u (x), and the file readable (r), by the file modes and owners; a
// *closedError names the first that is not. (It does not read ACLs.)
func readableBy(path string, u *user.User) error {
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return err
	}
	var gids []int
	if ids, err := u.GroupIds(); err == nil {
		for _, g := range ids {
			if n, err := strconv.Atoi(g); err == nil {
				gids = append(gids, n)
			}
		}
	}
	if n, err := strconv.Atoi(u.Gid); err == nil && !slices.Contains(gids, n) {
		gids = append(gids, n)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	may := func(p string, bit os.FileMode) (bool, error) {
		fi, err := os.Stat(p)
		if err != nil {
			return false, err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return true, nil
		}
		perm := fi.Mode().Perm()
		switch {
		case int(st.Uid) == uid:
			return perm&(bit<<6) != 0, nil
		case slices.Contains(gids, int(fileGID(fi))):
			return perm&(bit<<3) != 0, nil
		}
		return perm&bit != 0, nil
	}
	var dirs []string
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		dirs = append(dirs, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	slices.Reverse(dirs)
	for _, d := range dirs {
		ok, err := may(d, 0o1)
		if err != nil {
			return err
		}
		if !ok {
			return &closedError{path: d, dir: true}
		}
	}
	ok, err := may(abs, 0o4)
	if err != nil {
		return err
	}
	if !ok {
		return &closedError{path: abs}
	}
	return nil
}

// fileGID is the group that owns a file.
func fileGID(fi os.FileInfo) uint32 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Gid
	}
	return 0
}
