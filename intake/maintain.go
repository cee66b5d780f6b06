package intake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/vault"
)

// choresHour is the hour of the day (the server's local time) the daily
// chores run at, besides at start-up: a fixed hour, so that when the file
// was last rewritten says nothing about when the server started.
const choresHour = 3

// drainCompactDelay is how long after a route's staff queue empties the
// store is compacted: long enough for the rest of a sync's
// acknowledgements, and other leads' syncs of the moment, to land first.
const drainCompactDelay = time.Minute

// nextChores returns when the daily chores next run after now.
func nextChores(now time.Time) time.Time {
	next := time.Date(now.Year(), now.Month(), now.Day(), choresHour, 0, 0, 0, now.Location())
	if !next.After(now) {
		next = time.Date(now.Year(), now.Month(), now.Day()+1, choresHour, 0, 0, 0, now.Location())
	}
	return next
}

// maintain runs the daily chores now and then every day at choresHour:
// retention, the purge of acknowledged items, compaction and a verified
// backup. Damage to the staff queue found since start-up is logged again
// each day. cmd is the retention command for this server, which the log's
// advice names.
//
// It also compacts the store delay after each word on drained (a route's
// staff queue emptied): the file's pages lie in the order they were
// written, so until it is rewritten a copy of it shows in what order the
// items since the last rewrite arrived. Once the team has them all, that
// order is no longer kept anywhere. A compaction that went well leaves no
// log line: it would date the team's syncs.
func maintain(ctx context.Context, store *vault.Store, cfg *config, lg zerolog.Logger, dataDir, cmd string, drained <-chan struct{}, delay time.Duration) {
	dailyChores(store, cfg, lg, cmd)
	next := nextChores(time.Now())
	for {
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
			logQueueHealth(lg, store, dataDir)
			dailyChores(store, cfg, lg, cmd)
			next = nextChores(time.Now())
		case <-drained:
			t.Stop()
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			// Drains during the wait are served by this compaction.
			select {
			case <-drained:
			default:
			}
			if err := store.Compact(); err != nil {
				lg.Error().Err(err).Msg("compaction failed")
			}
		}
	}
}

// dailyChores runs retention, the purge, compaction and the backup once.
func dailyChores(store *vault.Store, cfg *config, lg zerolog.Logger, cmd string) {
	n, kept, err := store.DeleteInactive(cfg.RetentionDays)
	var ce *vault.ClockError
	switch {
	case errors.As(err, &ce):
		lg.Error().Err(err).Msg("retention paused: " + clockAdvice(ce, cmd))
	case errors.Is(err, vault.ErrRetentionLarge):
		lg.Error().Err(err).Msg("retention paused: " + largeAdvice(cmd))
	case err != nil:
		lg.Error().Err(err).Msg("retention failed")
	default:
		lg.Info().Int("deleted", n).Int("days", cfg.RetentionDays).Msg("retention ran")
		if kept > 0 {
			lg.Warn().Int("threads", kept).Msg("reports past retention are kept because the team has not synced them; run reviewer sync")
		}
	}
	if cfg.PurgeAcknowledged {
		if n, err := store.PurgeAcked(); err != nil {
			lg.Error().Err(err).Msg("purge failed")
		} else {
			lg.Info().Int("purged", n).Msg("purged acknowledged items")
		}
	}
	// Deleted data lingers in bbolt's free pages, and pages lie in the
	// order they were written, until the file is rewritten.
	if err := store.Compact(); err != nil {
		lg.Error().Err(err).Msg("compaction failed")
	}
	if cfg.BackupDir != "" {
		if path, err := dailyBackup(store, cfg.BackupDir, cfg.BackupKeep, time.Now()); err != nil {
			lg.Error().Err(err).Msg("backup failed")
		} else if path != "" {
			lg.Info().Str("file", filepath.Base(path)).Msg("backup written and verified")
		}
	}
}

// dailyBackup writes today's backup into dir unless it is already there,
// and keeps only the newest keep backups. It returns the new file's path.
func dailyBackup(store *vault.Store, dir string, keep int, now time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("failed to create backup directory: %w", err)
	}
	path := filepath.Join(dir, "hearken-"+vault.Today(now)+".db")
	_, err := store.BackupFile(path)
	if errors.Is(err, vault.ErrExists) {
		path = ""
	} else if err != nil {
		return "", err
	}
	old, err := filepath.Glob(filepath.Join(dir, "hearken-????-??-??.db"))
	if err != nil {
		return path, err
	}
	// The names sort by day, oldest first.
	for len(old) > keep {
		if err := os.Remove(old[0]); err != nil {
			return path, fmt.Errorf("failed to remove old backup: %w", err)
		}
		old = old[1:]
	}
	return path, nil
}

// retentionCommand is the intake retention command for a server's config
// and data directory, for advice in the log.
func retentionCommand(configPath, dataDir string) string {
	if configPath == "" {
		configPath = "FILE"
	}
	return "intake retention --config " + configPath + " --data " + dataDir
}

// clockAdvice says what a wrong clock means and what to do about it.
func clockAdvice(ce *vault.ClockError, cmd string) string {
	what := fmt.Sprintf("until this is put right, new reports are stamped %s, no thread ages, and retention does not run. ", ce.Trusted)
	if ce.Days < 0 {
		return what + fmt.Sprintf("Set the clock right (timedatectl; check the time sync): retention resumes by itself once it reads %s or later. "+
			"If the clock is right and %s is wrong, stop the service and run: %s --confirm-date", ce.Trusted, ce.Trusted, cmd)
	}
	return what + fmt.Sprintf("If the clock is wrong, set it right (timedatectl; check the time sync) and retention resumes by itself. "+
		"If the date is right (the server was off that long), stop the service and run: %s --confirm-date", cmd)
}

// largeAdvice says what to do when retention would delete an unusual
// share of the threads.
func largeAdvice(cmd string) string {
	return "if that is right (the server was off for a long time, or retention_days was lowered), stop the service and run: " +
		cmd + " --allow-large. If the clock is wrong, set it right first"
}

// retention is the intake retention command: it says what the store makes
// of the clock and what retention would delete, and with confirmDate or
// allowLarge records an operator's word. The server must be stopped.
func retention(w io.Writer, cfg *config, dataDir, cmd string, confirmDate, allowLarge bool) error {
	if _, err := os.Stat(filepath.Join(dataDir, storeFile)); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w in %s", errNoStore, dataDir)
	}
	store, err := openStoreOpts(dataDir, &vault.Options{RetentionDays: cfg.RetentionDays})
	if err != nil {
		return err
	}
	defer store.Close()
	if confirmDate {
		prev, err := store.TrustToday()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "The store now trusts today's date, %s (until now it trusted %s).\n", vault.Today(time.Now()), prev)
	}
	var ce *vault.ClockError
	if err := store.CheckClock(); errors.As(err, &ce) {
		fmt.Fprintf(w, "%s.\n%s.\n", upper(ce.Error()), upper(clockAdvice(ce, cmd)))
		if allowLarge {
			return errors.New("retention did not run: the clock looks wrong")
		}
		return nil
	}
	fmt.Fprintf(w, "The clock reads %s, and the store trusts it.\n", vault.Today(time.Now()))
	if allowLarge {
		n, kept, err := store.DeleteInactiveAllowLarge(cfg.RetentionDays)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "Retention deleted %d threads", n)
		if kept > 0 {
			fmt.Fprintf(w, "; %d more past %d days are kept until the team syncs them", kept, cfg.RetentionDays)
		}
		fmt.Fprintln(w, ".")
		if err := store.Compact(); err != nil {
			return err
		}
		fmt.Fprintln(w, "The store was rewritten without the deleted threads.")
		return nil
	}
	p, err := store.PlanRetention(cfg.RetentionDays)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Retention (%d days) would delete %d of %d threads today", cfg.RetentionDays, p.Delete, p.Threads)
	if p.Keep > 0 {
		fmt.Fprintf(w, "; %d more past %d days are kept until the team syncs them", p.Keep, cfg.RetentionDays)
	}
	fmt.Fprintln(w, ".")
	if p.Large {
		fmt.Fprintf(w, "That is more than a quarter of the threads, so the server will not do it by itself: %s.\n", largeAdvice(cmd))
	}
	return nil
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
