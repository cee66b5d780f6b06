package desk

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/hearken-project/hearken/internal/attach"
	"github.com/hearken-project/hearken/reviewer/cases"
)

// withCase runs a POST action on the case in the path with the store
// held, or shows why it cannot: the desk locked (the form is not acted
// on), or there is no such case.
func (d *Desk) withCase(w http.ResponseWriter, r *http.Request, act func(u *unlocked, n uint64)) {
	n, ok := caseNumber(r)
	if !ok {
		d.storeFailure(w, r, cases.ErrNoCase)
		return
	}
	u, release := d.acquire()
	if u == nil {
		d.showUnlock(w, r, "/case/"+cases.CaseNumber(n), true)
		return
	}
	defer release()
	if u.st == nil {
		d.storeFailure(w, r, cases.ErrNoCase)
		return
	}
	act(u, n)
}

// done sends the browser back to the case after a change, saying what
// was done (Post/Redirect/Get: a reload does not repeat the change).
func done(w http.ResponseWriter, r *http.Request, n uint64, what, anchor string) {
	http.Redirect(w, r, "/case/"+cases.CaseNumber(n)+"?done="+what+"#"+anchor, http.StatusSeeOther)
}

func (d *Desk) triage(w http.ResponseWriter, r *http.Request) {
	d.withCase(w, r, func(u *unlocked, n uint64) {
		cv, err := u.st.Show(n)
		if err != nil {
			d.storeFailure(w, r, err)
			return
		}
		f := r.PostForm
		// The form sends every field; only those changed are changes, so
		// that giving a category to a new case still marks it triaged.
		keep := func(v, cur string) string {
			if v == cur {
				return ""
			}
			return v
		}
		ch := cases.TriageChange{Status: keep(f.Get("status"), cv.Status), Category: keep(f.Get("category"), cv.Category), Urgency: keep(f.Get("urgency"), cv.Urgency)}
		switch assign := strings.TrimSpace(f.Get("assign")); {
		case assign == "" && cv.Assigned != "":
			ch.Assign = "nobody"
		case assign != cv.Assigned:
			ch.Assign = assign
		}
		if err := ch.Check(); err != nil {
			d.renderCase(w, r, u, n, http.StatusBadRequest, caseForm{err: "Triage not saved: " + err.Error()})
			return
		}
		if _, err := u.st.Triage(n, ch); err != nil {
			d.renderCase(w, r, u, n, http.StatusBadRequest, caseForm{err: "Triage not saved: " + err.Error()})
			return
		}
		u.cache.updated(u.st, n)
		done(w, r, n, "triage", "triage")
	})
}

func (d *Desk) note(w http.ResponseWriter, r *http.Request) {
	d.withCase(w, r, func(u *unlocked, n uint64) {
		text := r.PostForm.Get("note")
		var corrects uint64
		if c := r.PostForm.Get("corrects"); c != "" {
			var err error
			if corrects, err = strconv.ParseUint(c, 10, 64); err != nil {
				d.renderCase(w, r, u, n, http.StatusBadRequest, caseForm{err: "Note not added: choose an entry from the list.", noteDraft: text})
				return
			}
		}
		if _, err := u.st.Note(n, text, corrects); err != nil {
			d.renderCase(w, r, u, n, http.StatusBadRequest, caseForm{err: "Note not added: " + err.Error() + ".", noteDraft: text})
			return
		}
		u.cache.forget(cases.CaseNumber(n))
		done(w, r, n, "note", "chronology")
	})
}

// reply previews a reply (action=preview: nothing is saved) or sends it
// (action=send: sealed, queued, and a sync started).
func (d *Desk) reply(w http.ResponseWriter, r *http.Request) {
	d.withCase(w, r, func(u *unlocked, n uint64) {
		text := r.PostForm.Get("message")
		checked, err := cases.CheckText("reply", text)
		if err != nil {
			d.renderCase(w, r, u, n, http.StatusBadRequest, caseForm{err: "Reply not sent: " + err.Error() + ".", draft: text})
			return
		}
		if r.PostForm.Get("action") != "send" {
			d.renderCase(w, r, u, n, http.StatusOK, caseForm{draft: checked, preview: true})
			return
		}
		cv, err := u.st.Show(n)
		if err != nil {
			d.storeFailure(w, r, err)
			return
		}
		team, err := u.cache.team(u.st, cv.Route)
		if err == nil {
			_, err = u.st.Reply(n, checked, team)
		}
		if err != nil {
			d.renderCase(w, r, u, n, http.StatusBadRequest, caseForm{err: "Reply not sent: " + err.Error(), draft: text})
			return
		}
		u.cache.updated(u.st, n)
		d.syncer.start()
		done(w, r, n, "reply", "reply")
	})
}

// styleElement finds the record's own stylesheet, to allow it by hash.
var styleElement = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// record shows the printable record and notes in the chronology that it
// was opened: it is the case, unencrypted, in the browser.
func (d *Desk) record(w http.ResponseWriter, r *http.Request) {
	d.withCase(w, r, func(u *unlocked, n uint64) {
		rec, err := u.st.Record(n)
		if err != nil {
			d.storeFailure(w, r, err)
			return
		}
		if err := u.st.RecordExport(n, "case record opened in the desk, to print or save for a referral"); err != nil {
			d.storeFailure(w, r, err)
			return
		}
		u.cache.forget(cases.CaseNumber(n))
		csp := "default-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
		if m := styleElement.FindSubmatch(rec); m != nil {
			sum := sha256.Sum256(m[1])
			csp += "; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		}
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(rec)
	})
}

// attachmentOf reads the attachment in the request's path.
func (d *Desk) attachmentOf(r *http.Request, u *unlocked, n uint64) (*cases.AttachmentData, int, int, error) {
	msg, err1 := strconv.Atoi(r.PathValue("msg"))
	att, err2 := strconv.Atoi(r.PathValue("att"))
	if err1 != nil || err2 != nil {
		return nil, 0, 0, cases.ErrNoAttachment
	}
	a, err := u.st.Attachment(n, msg, att)
	return a, msg, att, err
}

// showFile serves a picture for the case page to show inline. Only JPEG
// and PNG are served this way, each with its checked type, nosniff, and a
// sandbox that would keep anything else inert.
func (d *Desk) showFile(w http.ResponseWriter, r *http.Request) {
	n, ok := caseNumber(r)
	if !ok {
		d.storeFailure(w, r, cases.ErrNoCase)
		return
	}
	u, release := d.acquire()
	if u == nil || u.st == nil {
		release()
		plainError(w, http.StatusForbidden, "The desk is locked.")
		return
	}
	defer release()
	a, msg, att, err := d.attachmentOf(r, u, n)
	if err != nil {
		d.storeFailure(w, r, err)
		return
	}
	if a.Type != "image/jpeg" && a.Type != "image/png" {
		plainError(w, http.StatusUnsupportedMediaType, "This file is not a picture; save a copy from the case page instead.")
		return
	}
	// Pictures arrive cleaned and checked by the intake, but a sealed item
	// is only as honest as whoever sealed it: the bytes must be what the
	// type says before a browser is asked to draw them.
	if http.DetectContentType(a.Data) != a.Type {
		plainError(w, http.StatusUnsupportedMediaType, "This file is not the picture it claims to be; save a copy from the case page instead.")
		return
	}
	w.Header().Set("Content-Type", a.Type)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s"`, fileName("/case/"+cases.CaseNumber(n), msg, att, attach.Extension(a.Type))))
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("Content-Length", strconv.Itoa(len(a.Data)))
	w.Write(a.Data)
}

// saveFile sends an attachment as a download, named after the type it
// was checked as, and notes in the chronology that a copy left the store.
func (d *Desk) saveFile(w http.ResponseWriter, r *http.Request) {
	d.withCase(w, r, func(u *unlocked, n uint64) {
		a, msg, att, err := d.attachmentOf(r, u, n)
		if err != nil {
			d.storeFailure(w, r, err)
			return
		}
		name := fileName("/case/"+cases.CaseNumber(n), msg, att, attach.Extension(a.Type))
		if err := u.st.RecordExport(n, "attachment "+name+" saved to this computer from the desk"); err != nil {
			d.storeFailure(w, r, err)
			return
		}
		u.cache.forget(cases.CaseNumber(n))
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
		w.Header().Set("Content-Length", strconv.Itoa(len(a.Data)))
		w.Write(a.Data)
	})
}
