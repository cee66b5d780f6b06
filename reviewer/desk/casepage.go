package desk

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hearken-project/hearken/internal/attach"
	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

type caseView struct {
	C                *cases.CaseView
	URL              string
	DangerNow        bool
	Guidance         *guidance
	Items            []itemView
	Flash, Error     string
	Waiting          string
	Statuses         []option
	Categories       []option
	Urgencies        []option
	Team             []string
	Entries          []option
	Draft, NoteDraft string
	Preview          *replyPreview
	ReplyBlocked     string
}

type itemView struct {
	ID, Class, Heading, Who, Day string
	State, Problem               string
	Fields                       []fieldView
	Files                        []fileView
}

type fieldView struct{ Label, Value string }

type fileView struct {
	Label, Kind, Size, Alt, URL, FileName string
	Image, Cleaned                        bool
}

type replyPreview struct{ From, Day, Text string }

// flashes are the messages a redirect after a change asks for.
var flashes = map[string]string{
	"triage": "Triage saved, and added to the chronology.",
	"note":   "Note added to the chronology.",
	"reply":  "Reply saved, and being sent now. Reload this page in a moment to see it marked as sent.",
}

// caseNumber reads the case in a request's path.
func caseNumber(r *http.Request) (uint64, bool) {
	n, err := cases.ParseCaseNumber(r.PathValue("case"))
	return n, err == nil
}

func (d *Desk) casePage(w http.ResponseWriter, r *http.Request) {
	n, ok := caseNumber(r)
	if !ok {
		d.storeFailure(w, r, cases.ErrNoCase)
		return
	}
	u, release := d.acquire()
	if u == nil {
		d.showUnlock(w, r, "", false)
		return
	}
	defer release()
	cf := caseForm{flash: flashes[r.URL.Query().Get("done")]}
	d.renderCase(w, r, u, n, http.StatusOK, cf)
}

// caseForm is what a case page shows besides the case: a message, and
// what the lead had typed when a form comes back to them.
type caseForm struct {
	flash, err       string
	draft, noteDraft string
	preview          bool
}

func (d *Desk) renderCase(w http.ResponseWriter, r *http.Request, u *unlocked, n uint64, code int, cf caseForm) {
	if u.st == nil {
		d.storeFailure(w, r, cases.ErrNoCase)
		return
	}
	cv, err := u.st.Show(n)
	if err != nil {
		d.storeFailure(w, r, err)
		return
	}
	v := d.page(r, "Case "+cv.Case, "")
	cw := &caseView{
		C: cv, URL: "/case/" + cv.Case, DangerNow: dangerNow(cv.CaseSummary),
		Guidance: guidanceFor(d.opts.Store, d.opts.Lang, cv.Category),
		Flash:    cf.flash, Error: cf.err, Draft: cf.draft, NoteDraft: cf.noteDraft,
		Waiting: row(cv.CaseSummary).Waiting,
	}
	cw.Statuses = options(cv.Status, nil, cases.Statuses, nil)
	cw.Categories = options(cv.Category, unsetOption(cv.Category), cases.Categories, nil)
	cw.Urgencies = options(cv.Urgency, unsetOption(cv.Urgency), cases.Urgencies, nil)
	for i, m := range cv.Messages {
		cw.Items = append(cw.Items, itemOf(cw.URL, i, m))
	}
	cw.Entries = []option{{Value: "", Label: "is a new note", Selected: true}}
	for _, l := range cv.Chronology {
		if l.N != 0 {
			cw.Entries = append(cw.Entries, option{Value: strconv.FormatUint(l.N, 10),
				Label: fmt.Sprintf("corrects entry %d (%s, %s)", l.N, l.What, l.Day)})
		}
	}
	team, teamErr := u.cache.team(u.st, cv.Route)
	if teamErr == nil {
		for _, m := range team.Members {
			cw.Team = append(cw.Team, m.Name)
		}
	}
	switch {
	case cv.ReplyTo == "" && cv.Notice != "":
		cw.ReplyBlocked = "You cannot reply from this computer: " + cv.Notice
	case cv.ReplyTo == "":
		cw.ReplyBlocked = "The report of this case could not be opened on this computer, so there is no way to reach the reporter from here. Ask a colleague on the team to reply."
	case errors.Is(teamErr, cases.ErrNoTeam):
		cw.ReplyBlocked = "The desk does not know who else on your team may read replies on the route " + cv.Route +
			". Run reviewer init --team FILE --route " + cv.Route + " with that route's team file from the person who runs Hearken, then reload this page."
	case teamErr != nil:
		cw.ReplyBlocked = "The team file for this route could not be read: " + teamErr.Error()
	}
	if cf.preview {
		cw.Preview = &replyPreview{From: u.m.Name, Day: vault.Today(d.now()), Text: cf.draft}
	}
	v.Body = cw
	d.pages.render(w, code, "case", v)
}

func unsetOption(current string) []option {
	if current == "" {
		return []option{{Value: "", Label: "not set"}}
	}
	return nil
}

// itemOf labels message i by its kind and its author.
func itemOf(caseURL string, i int, m cases.Message) itemView {
	it := itemView{ID: fmt.Sprintf("item-%d", i+1), Day: m.Day, Problem: m.Problem}
	switch m.Kind {
	case vault.KindReport:
		it.Class, it.Heading, it.Who = "report", "Report", "From the reporter"
	case vault.KindFollowUp:
		it.Class, it.Heading, it.Who = "follow-up", "Follow-up from the reporter", "From the reporter"
	case vault.KindReply:
		it.Class, it.Heading, it.Who = "reply", "Reply from the team", "By "+or(m.Author, "a team member")
		it.State = replyState(m.State)
	default:
		it.Class, it.Heading, it.Who = "other", "Item of an unknown kind", "Unknown author"
	}
	for _, f := range m.Fields {
		if f.Value == "" {
			continue
		}
		label := cases.FieldLabel(f.Name)
		switch {
		case f.Name == "language":
			label = "Language of the form"
		case m.Kind != vault.KindReport && f.Name == "message":
			label = ""
		}
		it.Fields = append(it.Fields, fieldView{Label: label, Value: f.Value})
	}
	for j, a := range m.Attachments {
		ext := attach.Extension(a.Type)
		fv := fileView{
			Label: fmt.Sprintf("Attachment %d", j+1), Kind: kindOfFile(a.Type), Size: a.SizeText(), Cleaned: a.Cleaned,
			URL:      fmt.Sprintf("%s/file/%d/%d", caseURL, i, j),
			FileName: fileName(caseURL, i, j, ext),
			Image:    a.Type == "image/jpeg" || a.Type == "image/png",
		}
		fv.Alt = fmt.Sprintf("Picture sent with this %s (attachment %d). Describe it in words in the chronology if it matters.", strings.ToLower(it.Heading), j+1)
		it.Files = append(it.Files, fv)
	}
	return it
}

// replyState says in the desk's words where a reply written here is.
func replyState(state string) string {
	switch {
	case state == "":
		return ""
	case state == "sent":
		return "Sent"
	case strings.HasPrefix(state, "queued"):
		return "Waiting to be sent at the next sync"
	}
	return state
}

func kindOfFile(mediaType string) string {
	switch mediaType {
	case "image/jpeg":
		return "a JPEG picture"
	case "image/png":
		return "a PNG picture"
	case "application/pdf":
		return "a PDF document"
	case "text/plain":
		return "a text file"
	}
	return "a file of an unknown type"
}

// fileName names a saved attachment after the case, its place and the type
// it was checked as, never after the name the sender gave: "HK-7K3M-Q9XD-1-1.pdf".
// An unknown type gets ".bin", which no program opens by itself.
func fileName(caseURL string, msg, att int, ext string) string {
	if ext == "" {
		ext = ".bin"
	}
	return fmt.Sprintf("%s-%d-%d%s", strings.TrimPrefix(caseURL, "/case/"), msg+1, att+1, ext)
}
