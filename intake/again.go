package intake

import (
	"net/http"

	"github.com/hearken-project/hearken/vault"
)

// A report or a follow-up the site refuses is answered with its form
// again, filled in with what the reporter wrote, wherever the server read
// their message: a child who loses a long message may not write it again,
// and a browser's Back button cannot be trusted to keep it (every page is
// no-store: Firefox, and so Tor Browser, restores no field of a no-store
// page; chromium restores some fields of the report form but not those
// with autocomplete off, and after a follow-up, Back leads to the answer
// to a POST, which a no-store page cannot give back at all).
//
// The words go back in the answer to the request that carried them and
// nowhere else: never into a URL, a cookie, a log or the store. A browser
// cannot fill in a file input, so files are chosen again.

// againView is a form shown again: what went wrong, and the words to put
// back.
type againView struct {
	Problem string // what went wrong, translated
	// Field is the field the problem is about ("message", "file"), where
	// the form says it again; "" for the form as a whole.
	Field string
	// Files is set when files were sent: they were not kept, and must be
	// chosen again.
	Files bool
	// Partial is set when the form was not read to its end (the site was
	// busy, or the upload too slow), so fields after the message may be
	// missing.
	Partial bool

	fields map[string]string
}

// refilled are the fields a form shown again fills in. A radio group's
// value that is not one of the form's own answers is kept but checks no
// button (see Chosen).
var refilled = []string{"message", "about", "danger", "when_where", "role", "route", "contact"}

// again returns what to show again of a submission refused with ferr, or
// nil when its error page answers it instead: the refusal is one the form
// cannot help with (a malformed or cross-site request, the honeypot), or
// the reporter's message was never read (the site was busy before it
// arrived, or it was too long to hold).
func (sub *submission) again(ferr *formError) *againView {
	if sub == nil || ferr.again == "" {
		return nil
	}
	// Where the message was not read, the form cannot give it back. The
	// one exception is a form sent with no message at all, which the
	// reporter puts right by writing one.
	if _, read := sub.fields["message"]; !read && ferr != errNoMessage {
		return nil
	}
	v := &againView{Field: ferr.field, Files: sub.sentFiles > 0, Partial: !sub.complete, fields: map[string]string{}}
	for _, name := range refilled {
		if value, ok := sub.fields[name]; ok {
			v.fields[name] = value
		}
	}
	return v
}

// Kept returns what the reporter wrote in the field name, on a form shown
// again, and "" otherwise.
func (p *page) Kept(name string) string {
	if p.Again == nil {
		return ""
	}
	return p.Again.fields[name]
}

// Chosen reports whether the radio button value of the group name is to be
// checked on a form shown again.
func (p *page) Chosen(name, value string) bool {
	return p.Again != nil && value != "" && p.Again.fields[name] == value
}

// RouteChecked reports whether the i-th route, named name, is checked: the
// one the reporter chose, or the first.
func (p *page) RouteChecked(i int, name string) bool {
	if chosen := p.Kept("route"); chosen != "" {
		return chosen == name
	}
	return i == 0
}

// Note reports whether the form says what went wrong at field as well.
// The file input has a note whenever files were sent, since they must be
// chosen again.
func (p *page) Note(field string) bool {
	if p.Again == nil {
		return false
	}
	return p.Again.Field == field || field == "file" && p.Again.Files
}

// showAgain fills p in as a form shown again after ferr.
func (s *server) showAgain(w http.ResponseWriter, p *page, again *againView, ferr *formError) {
	again.Problem = p.T(ferr.again)
	p.Again = again
	p.Title = p.T("again_title")
	retryAfterBusy(w, ferr.status)
}

// refuseReport answers a report that was not taken: with the form again,
// filled in, where it can be, and with the error page otherwise.
func (s *server) refuseReport(w http.ResponseWriter, lang string, sub *submission, ferr *formError) {
	again := sub.again(ferr)
	if again == nil {
		s.renderRefusal(w, lang, ferr)
		return
	}
	if _, ok := s.cfg.routeByName(again.fields["route"]); !ok {
		delete(again.fields, "route")
	}
	p := s.reportPage(lang)
	// A child who said someone is in danger sees the numbers to call
	// first, as on a danger report's receipt.
	p.DangerFirst = again.fields["danger"] == "yes"
	s.showAgain(w, p, again, ferr)
	s.render(w, ferr.status, "report", p)
}

// refuseFollowUp answers a follow-up that was not taken: with the thread's
// page, its form filled in again with the receipt kept, where it can be,
// and with the error page otherwise. The form is shown again only on the
// page of a thread the code finds.
func (s *server) refuseFollowUp(w http.ResponseWriter, lang string, sub *submission, ferr *formError) {
	again := sub.again(ferr)
	if again == nil {
		s.renderRefusal(w, lang, ferr)
		return
	}
	var p *page
	receipt, err := vault.ParseReceipt(sub.fields["receipt"])
	if err == nil {
		p, err = s.threadPage(lang, receipt)
	}
	if err != nil {
		s.renderRefusal(w, lang, ferr)
		return
	}
	if p.Closed {
		// Nothing can be added to this thread: there is no form to fill.
		s.render(w, http.StatusOK, "thread", p)
		return
	}
	s.showAgain(w, p, again, ferr)
	s.render(w, ferr.status, "thread", p)
}
