package desk

import (
	"errors"
	"net/http"
	"strings"

	"github.com/hearken-project/hearken/reviewer/cases"
)

// handler is the desk: every route behind the guard.
func (d *Desk) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /static/desk.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Write(stylesheet)
	})
	mux.HandleFunc("GET /{$}", d.inbox)
	mux.HandleFunc("GET /case/{case}", d.casePage)
	mux.HandleFunc("POST /case/{case}/triage", d.triage)
	mux.HandleFunc("POST /case/{case}/note", d.note)
	mux.HandleFunc("POST /case/{case}/reply", d.reply)
	mux.HandleFunc("POST /case/{case}/record", d.record)
	mux.HandleFunc("GET /case/{case}/file/{msg}/{att}", d.showFile)
	mux.HandleFunc("POST /case/{case}/file/{msg}/{att}", d.saveFile)
	mux.HandleFunc("GET /stats", d.stats)
	mux.HandleFunc("GET /stats.csv", d.statsCSV)
	mux.HandleFunc("GET /sync", d.syncPage)
	mux.HandleFunc("POST /sync", d.syncNow)
	mux.HandleFunc("GET /backup", d.backupPage)
	mux.HandleFunc("POST /backup", d.makeBackup)
	mux.HandleFunc("POST /lock", d.lockNow)
	mux.HandleFunc("POST /unlock", d.unlock)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		d.failure(w, r, http.StatusNotFound, "Not found", "There is no such page in the desk.")
	})
	return d.guard(mux)
}

// acquire returns the unlocked state and holds it until release is
// called; nil (and a release that does nothing) while locked.
func (d *Desk) acquire() (*unlocked, func()) {
	d.state.RLock()
	if d.open == nil {
		d.state.RUnlock()
		return nil, func() {}
	}
	return d.open, d.state.RUnlock
}

type unlockView struct {
	First bool // never unlocked since the desk started
	Idle  string
	Next  string
	Error string
	Lost  bool
}

// showUnlock shows the lock page, which leads back to next. lost says a
// form was sent while the desk was locked, so it was not acted on.
func (d *Desk) showUnlock(w http.ResponseWriter, r *http.Request, next string, lost bool) {
	if next == "" {
		next = r.URL.Path
		if r.Method == http.MethodGet && r.URL.RawQuery != "" {
			next += "?" + r.URL.RawQuery
		}
	}
	v := d.page(r, "Locked", "")
	v.Locked = true
	v.Body = unlockView{First: !d.everOpen.Load(), Idle: minutes(d.opts.IdleLock), Next: localPath(next), Lost: lost}
	d.pages.render(w, http.StatusOK, "unlock", v)
}

// localPath keeps next only if it is a path on the desk itself, so the
// unlock form can never send the browser elsewhere.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	// auto=1 is for the page's own reloads; after unlocking, the lead
	// looks at it.
	next = strings.ReplaceAll(next, "auto=1", "")
	return strings.TrimRight(next, "?&")
}

func (d *Desk) unlock(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.PostForm.Get("next"))
	if !d.locked() {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	err := d.Unlock(r.PostForm.Get("passphrase"))
	if err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	msg := "The desk could not open your case store: " + err.Error()
	switch {
	case errors.Is(err, ErrWrongPassphrase):
		msg = "That passphrase does not open your identity. Passphrases are case-sensitive; try again."
	case errors.Is(err, cases.ErrStoreLocked):
		msg = "Another reviewer command is using the case store. Wait for it to finish, then unlock again."
	}
	v := d.page(r, "Locked", "")
	v.Locked = true
	v.Body = unlockView{First: !d.everOpen.Load(), Idle: minutes(d.opts.IdleLock), Next: next, Error: msg}
	d.pages.render(w, http.StatusUnauthorized, "unlock", v)
}

func (d *Desk) lockNow(w http.ResponseWriter, r *http.Request) {
	d.lock()
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// storeFailure shows an error from the store in plain words.
func (d *Desk) storeFailure(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errLocked):
		d.showUnlock(w, r, "", r.Method == http.MethodPost)
	case errors.Is(err, cases.ErrNoCase):
		d.failure(w, r, http.StatusNotFound, "No such case", "There is no such case on this computer. Case numbers are this computer's own; a colleague's may differ.")
	case errors.Is(err, cases.ErrNoAttachment):
		d.failure(w, r, http.StatusNotFound, "No such file", "This case has no such attachment.")
	default:
		d.failure(w, r, http.StatusInternalServerError, "Something went wrong", "The desk could not read the case store: "+err.Error())
	}
}
