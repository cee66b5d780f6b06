package desk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

// syncer runs one sync at a time in the background and keeps what the
// pages show of it. A sync asked for while one runs runs once more after
// it, so a reply written meanwhile is not left waiting.
type syncer struct {
	d *Desk

	mu       sync.Mutex
	running  bool
	again    bool
	cancel   context.CancelFunc
	done     chan struct{}
	progress cases.SyncProgress
	finished time.Time
	result   *cases.SyncResult
	note     string // how tor got the onion key, when the lead should know
	err      string
	advice   string // what to do about err
}

// syncView is what pages show of the syncer.
type syncView struct {
	Running  bool
	Progress string
	When     string // when the last sync ended, in the lead's words
	Summary  string
	Error    string
	Advice   string   // what to do about Error
	Lines    []string // details of the last sync
}

// start starts a sync, or asks for one more after the one running.
func (s *syncer) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		s.again = true
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.running, s.again, s.cancel, s.done = true, false, cancel, make(chan struct{})
	s.progress = cases.SyncProgress{Stage: "starting"}
	go s.run(ctx, s.done)
}

// stop stops a sync in progress and waits for it to end.
func (s *syncer) stop() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.again = false
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// wait waits for the sync in progress (and any asked for meanwhile) to
// end. Tests use it.
func (s *syncer) wait() {
	for {
		s.mu.Lock()
		done := s.done
		s.mu.Unlock()
		if done == nil {
			return
		}
		<-done
	}
}

func (s *syncer) run(ctx context.Context, done chan struct{}) {
	for {
		res, note, err := s.once(ctx)
		s.mu.Lock()
		s.finished, s.result, s.note, s.err, s.advice = s.d.now(), res, note, "", ""
		if err != nil {
			s.err = syncError(err)
			var a *advised
			if errors.As(err, &a) {
				s.advice = a.advice
			}
		}
		if !s.again || ctx.Err() != nil {
			s.running, s.cancel, s.done = false, nil, nil
			s.mu.Unlock()
			close(done)
			return
		}
		s.again = false
		s.progress = cases.SyncProgress{Stage: "starting"}
		s.mu.Unlock()
	}
}

// once runs one sync with the unlocked store, reaching the server as
// reviewer sync does (the member's proxy and tor settings). note is what
// the lead should know of how tor got the onion key, even when the sync
// worked; a failure through tor comes with the command line's advice
// (advised).
func (s *syncer) once(ctx context.Context) (res *cases.SyncResult, note string, err error) {
	u, release := s.d.acquire()
	if u == nil {
		return nil, "", errLocked
	}
	defer release()
	cfg, err := cases.LoadConfig(s.d.opts.Store)
	if err != nil {
		return nil, "", err
	}
	if cfg.Server == "" {
		return nil, "", errNoServer
	}
	if u.st == nil {
		return nil, "", errNoStore
	}
	c, err := cfg.NewClient(u.m)
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	rep, err := c.ConnectTor(ctx, cfg.Tor())
	note = rep.Note()
	if err != nil {
		return nil, note, advise(err, rep, cfg)
	}
	res, err = cases.SyncWatched(ctx, u.st, c, func(p cases.SyncProgress) {
		s.mu.Lock()
		s.progress = p
		s.mu.Unlock()
	})
	// Read the list again only when the sync changed something: after a
	// quiet sync the inbox stays as quick as it was.
	if err != nil || res == nil || res.Received > 0 || res.Pushed > 0 || res.Failed > 0 || len(res.SetAside) > 0 {
		u.cache.changed()
	}
	if c.Proxied() {
		err = advise(err, rep, cfg)
	}
	return res, note, err
}

// advised is a failed sync with advice for the lead.
type advised struct {
	err    error
	advice string
}

func (e *advised) Error() string { return e.err.Error() }
func (e *advised) Unwrap() error { return e.err }

// advise attaches to a failure through tor the advice the command line
// gives for it (cases.TorAdvice), in the desk's words for syncing again.
func advise(err error, rep *cases.TorReport, cfg cases.Config) error {
	if errors.Is(err, cases.ErrNoOnionKey) {
		// The command line adds the key itself, with the passphrase, and
		// so never needs this advice; the desk holds no passphrase.
		return &advised{err, "run reviewer onion-key at the command line: it gives your identity an onion key and prints your new line for the team file. Send that line to the person who runs Hearken; once they have put it in the team file and run intake check --apply, lock the desk, unlock it and press Sync now"}
	}
	if a := cases.TorAdvice(err, rep, cfg, "press Sync now"); a != "" {
		return &advised{err, a}
	}
	return err
}

var (
	errNoStore  = errors.New("there is no case store on this computer yet: lock the desk and unlock it again to make one")
	errNoServer = errors.New("the desk does not know your school's Hearken server: run reviewer init --server ADDRESS, then start the desk again")
)

// syncError says in plain words why a sync stopped.
func syncError(err error) string {
	switch {
	case errors.Is(err, errLocked):
		return "the desk locked before the sync could run."
	case errors.Is(err, context.Canceled):
		return "the sync was stopped because the desk locked or closed. It starts again when you unlock."
	case errors.Is(err, cases.ErrNotKnown):
		return "the server does not know your key. Ask the person who runs Hearken to add your member.pub line to the team file, and check this computer's clock."
	}
	return err.Error()
}

func (s *syncer) view(now time.Time) syncView {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := syncView{Running: s.running, Error: s.err, Advice: s.advice}
	if s.running {
		switch p := s.progress; p.Stage {
		case "receiving":
			v.Progress = "receiving new messages (" + plural(p.Received, "new item", "new items") + " so far)."
		case "sending replies":
			v.Progress = "sending your replies (" + plural(p.Received, "new item", "new items") + " received)."
		case "confirming":
			v.Progress = "telling the server what arrived safely."
		default:
			v.Progress = "starting."
		}
	}
	if !s.finished.IsZero() {
		v.When = when(s.finished, now)
	}
	if s.finished.IsZero() {
		v.Summary = "Not synced yet since the desk started."
	}
	if res := s.result; res != nil {
		v.Summary = fmt.Sprintf("%s, %s.", plural(len(res.NewCases), "new case", "new cases"), plural(res.Received, "new message", "new messages"))
		if res.Received == 0 {
			v.Summary = "nothing new."
		}
		if res.Pushed > 0 {
			v.Summary += " " + plural(res.Pushed, "reply", "replies") + " sent."
		}
		v.Lines = syncLines(res)
	}
	if s.note != "" {
		v.Lines = append(v.Lines, s.note)
	}
	return v
}

// syncLines lists what the lead must know about a sync.
func syncLines(res *cases.SyncResult) []string {
	var out []string
	if len(res.DangerCases) > 0 {
		out = append(out, "Danger now: "+plural(len(res.DangerCases), "new report says", "new reports say")+" someone may be in danger right now. Open "+strings.Join(res.DangerCases, ", ")+" first.")
	}
	if n := res.KindCount[string(vault.KindReport)]; n > 0 {
		out = append(out, plural(n, "new report", "new reports")+".")
	}
	if n := res.KindCount[string(vault.KindFollowUp)]; n > 0 {
		out = append(out, plural(n, "new message", "new messages")+" from reporters on existing cases.")
	}
	if n := res.KindCount[string(vault.KindReply)]; n > 0 {
		out = append(out, plural(n, "reply", "replies")+" from colleagues.")
	}
	for _, nd := range res.NotDelivered {
		out = append(out, "A reply on "+nd.Case+" could not be delivered: "+nd.Reason)
	}
	for _, a := range res.SetAside {
		where := "an item belonging to no case"
		if a.Case != "" {
			where = "an item of " + a.Case
		}
		out = append(out, "Warning: "+where+" was set aside because "+a.Reason+". It is kept unchanged; tell the person who runs Hearken.")
	}
	if note := res.HandoverNote(0); note != "" {
		out = append(out, note)
	}
	if n := res.HandedOver; n > 0 {
		out = append(out, plural(n, "item", "items")+" handed over by colleagues.")
	}
	return out
}

// when says when something happened today or earlier, to the minute.
func when(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if t.Year() == now.Year() && t.YearDay() == now.YearDay() {
		return "today at " + t.Format("15:04")
	}
	return t.Format("2 January at 15:04")
}

func (d *Desk) syncPage(w http.ResponseWriter, r *http.Request) {
	v := d.page(r, "Sync", "")
	if v.Locked {
		d.showUnlock(w, r, "/sync", false)
		return
	}
	if v.Sync.Running {
		v.Refresh, v.RefreshURL = 2, "/sync?auto=1"
	}
	every := ""
	if d.opts.SyncEvery > 0 {
		every = minutes(d.opts.SyncEvery)
	}
	v.Body = struct {
		CanSync bool
		Every   string
	}{true, every}
	d.pages.render(w, http.StatusOK, "sync", v)
}

func (d *Desk) syncNow(w http.ResponseWriter, r *http.Request) {
	if d.locked() {
		d.showUnlock(w, r, "/sync", true)
		return
	}
	d.syncer.start()
	http.Redirect(w, r, "/sync", http.StatusSeeOther)
}

// minutes says a duration in the lead's words.
func minutes(t time.Duration) string {
	if t < time.Minute {
		return plural(int(t.Seconds()), "second", "seconds")
	}
	return plural(int(t.Minutes()), "minute", "minutes")
}
