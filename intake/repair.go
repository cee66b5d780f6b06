package intake

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/vault"
)

// logQueueHealth says in the log what is wrong with the staff queue, and
// the command that puts it right. The server says it at start-up and with
// the daily chores.
func logQueueHealth(lg zerolog.Logger, store *vault.Store, dataDir string) {
	h := store.QueueHealth()
	if h.Sound() {
		return
	}
	ev := lg.Error().Int("undeliverable", h.Blocked).Int("stray", h.Stray).Int("miscounted", h.Counts).Int("unreadable", h.Unreadable)
	if h.Unreadable > 0 {
		ev.Msg("the store is damaged: records of some threads cannot be read, so the staff queue cannot be rebuilt around them. " +
			"Restore the newest backup; see \"A damaged store\" in deploy/README.md")
		return
	}
	ev.Msg(fmt.Sprintf("the staff queue is damaged: it cannot send %d of the items waiting for the team until it is rebuilt from the threads' records. "+
		"Nothing is lost: those threads are kept. Stop the service and run: intake repair --data %s", h.Blocked, dataDir))
}

// repair is the intake repair command: it checks the staff queue against
// the threads' records and, if it is damaged, keeps a copy of the store
// file as it was and rebuilds the queue. The server must be stopped.
func repair(w io.Writer, dataDir string) error {
	path := filepath.Join(dataDir, storeFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w in %s", errNoStore, dataDir)
	}
	store, err := openStoreOpts(dataDir, &vault.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	h := store.QueueHealth()
	if h.Sound() {
		fmt.Fprintln(w, "The staff queue matches the threads' records: there is nothing to repair.")
		return nil
	}
	fmt.Fprintf(w, "The staff queue is damaged. Waiting items it cannot send: %d. Entries that name nothing: %d. Threads that miscount their waiting items: %d.\n",
		h.Blocked, h.Stray, h.Counts)
	if h.Unreadable > 0 {
		return fmt.Errorf("%w: %d thread or item records cannot be read, so the queue cannot be rebuilt around them", vault.ErrCorrupt, h.Unreadable)
	}
	// The store holds the lock: nothing writes the file while it is copied.
	kept, err := keepCopy(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "The store as it was is kept in %s.\n", kept)
	written, removed, err := store.RebuildQueue()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Rebuilt the staff queue from the threads' records and checked it (entries written: %d; removed: %d). The team gets every waiting item at its next sync.\n", written, removed)
	return nil
}

// keepCopy copies the file at path, byte for byte, to a new file beside it.
func keepCopy(path string) (string, error) {
	src, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer src.Close()
	for i := 1; ; i++ {
		name := path + ".before-repair"
		if i > 1 {
			name = fmt.Sprintf("%s.%d", name, i)
		}
		dst, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("failed to keep a copy of the store: %w", err)
		}
		_, err = io.Copy(dst, src)
		if err == nil {
			err = dst.Sync()
		}
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(name)
			return "", fmt.Errorf("failed to keep a copy of the store: %w", err)
		}
		return name, nil
	}
}
