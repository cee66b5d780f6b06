package intake

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hearken-project/hearken/vault"
)

func (s *server) landing(w http.ResponseWriter, r *http.Request, lang string) {
	p := s.newPage(lang, "", "landing_title")
	s.clearWebNotice(p, r)
	s.render(w, http.StatusOK, "landing", p)
}

func (s *server) safety(w http.ResponseWriter, r *http.Request, lang string) {
	p := s.newPage(lang, "safety", "safety_title")
	s.clearWebNotice(p, r)
	s.render(w, http.StatusOK, "safety", p)
}

// clearWebNotice tells a reporter who did not come through the onion
// service that the network they use can see the visit, though not what
// they write, and how to hide it.
func (s *server) clearWebNotice(p *page, r *http.Request) {
	p.ClearWeb = !s.viaOnion(r)
	p.Onion = s.cfg.OnionAddress
}

func (s *server) reportForm(w http.ResponseWriter, r *http.Request, lang string) {
	s.render(w, http.StatusOK, "report", s.reportPage(lang))
}

// reportPage is the report form, with the routes to choose from.
func (s *server) reportPage(lang string) *page {
	p := s.newPage(lang, "report", "report_title")
	for _, rt := range s.cfg.Routes {
		label := rt.Labels[lang]
		if label == "" {
			label = rt.Labels[s.cfg.DefaultLanguage]
		}
		if label == "" {
			label = rt.Name
		}
		p.Routes = append(p.Routes, routeView{Name: rt.Name, Label: label})
	}
	return p
}

func (s *server) checkForm(w http.ResponseWriter, r *http.Request, lang string) {
	s.render(w, http.StatusOK, "check", s.newPage(lang, "check", "check_title"))
}

// choices are the accepted values of the form's radio groups ("" means not
// answered).
var choices = map[string][]string{
	"danger": {"", "yes", "no", "unsure"},
	"role":   {"", "student", "staff", "parent", "other"},
}

// reportFields are sealed in this order when present.
var reportFields = []string{"message", "about", "danger", "when_where", "role", "contact"}

func (s *server) submitReport(w http.ResponseWriter, r *http.Request, lang string) {
	// The teams as the report starts to arrive: a reload while it uploads
	// does not change who it is sealed to.
	teams := s.teams.load()
	release, ok := s.admit(w, r, lang)
	if !ok {
		return
	}
	defer release()

	sub, ferr := parseSubmission(r)
	if ferr == nil {
		for name, allowed := range choices {
			if !slices.Contains(allowed, sub.fields[name]) {
				ferr = errBadChoice
			}
		}
	}
	var rt *route
	if ferr == nil {
		rt, ferr = s.chooseRoute(sub.fields["route"])
	}
	if ferr != nil {
		s.refuseReport(w, lang, sub, ferr)
		return
	}

	env := &vault.Envelope{Attachments: sub.files}
	for _, name := range reportFields {
		if v := sub.fields[name]; strings.TrimSpace(v) != "" {
			env.Fields = append(env.Fields, vault.Field{Name: name, Value: v})
		}
	}
	// The team replies in the language the reporter used.
	env.Fields = append(env.Fields, vault.Field{Name: "language", Value: lang})

	free, ok := s.sealSlot(r)
	if !ok {
		s.refuseReport(w, lang, sub, s.busyRefusal(w, sealRetry))
		return
	}
	defer free()
	receipt, err := s.store.CreateThread(rt.Name, env, teams.recipients(rt.Name))
	if err != nil {
		s.refuseReport(w, lang, sub, s.storeRefusal(w, "failed to store report", err))
		return
	}
	// The report is committed: tell the team. The danger answer goes from
	// the form to the alerter and nowhere else outside the sealed report.
	// Neither call waits on the network, so the receipt is never delayed.
	danger := sub.fields["danger"] == "yes"
	if danger {
		s.alerts.Danger(rt.Name)
	}
	s.alerts.Activity(rt.Name)

	p := s.newPage(lang, "", "receipt_title")
	p.Receipt = receipt.Reveal()
	p.DangerFirst = danger
	if danger {
		p.TeamHours = s.cfg.teamHours(lang)
	}
	s.render(w, http.StatusOK, "receipt", p)
}

// parseSubmission reads a report or a follow-up, files included, and checks
// what every submission shares: the honeypot, which only bots fill in, and
// a message with something in it. A refused form may come back with what
// was read of it (see submission).
func parseSubmission(r *http.Request) (*submission, *formError) {
	sub, ferr := parseForm(r)
	switch {
	case sub == nil:
	case sub.fields["website"] != "":
		ferr = errHoneypot
	case ferr == nil && strings.TrimSpace(sub.fields["message"]) == "":
		ferr = errNoMessage
	}
	return sub, ferr
}

func (s *server) chooseRoute(name string) (*route, *formError) {
	if name == "" {
		return &s.cfg.Routes[0], nil
	}
	rt, ok := s.cfg.routeByName(name)
	if !ok {
		return nil, errBadChoice
	}
	return rt, nil
}

// checkCode shows the team's replies for a receipt. The form is a few
// bytes, so it gets a short time to arrive: its body is not metered like a
// submission's, and a slow client must not hold even that for long.
func (s *server) checkCode(w http.ResponseWriter, r *http.Request, lang string) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.uploadIdle))
	sub, ferr := parseCheckForm(r)
	if ferr != nil {
		s.renderError(w, lang, ferr.status, ferr.key)
		return
	}
	receipt, ok := s.parseReceipt(w, lang, sub.fields["receipt"])
	if !ok {
		return
	}
	s.showThread(w, lang, receipt, "")
}

// parseReceipt answers a code that cannot be used. Only a failed check
// symbol gets its own message; every other failure looks like an unknown code.
func (s *server) parseReceipt(w http.ResponseWriter, lang, text string) (vault.Receipt, bool) {
	receipt, err := vault.ParseReceipt(text)
	switch {
	case err == nil:
		return receipt, true
	case errors.Is(err, vault.ErrReceiptTypo):
		s.checkNotice(w, lang, "check_typo")
	default:
		s.checkNotice(w, lang, "check_not_found")
	}
	return vault.Receipt{}, false
}

func (s *server) checkNotice(w http.ResponseWriter, lang, key string) {
	p := s.newPage(lang, "check", "check_title")
	p.Notice = p.T(key)
	s.render(w, http.StatusOK, "check", p)
}

// showThread renders the team's replies, with the notice noticeKey if it
// is not "".
func (s *server) showThread(w http.ResponseWriter, lang string, receipt vault.Receipt, noticeKey string) {
	p, err := s.threadPage(lang, receipt)
	if errors.Is(err, vault.ErrNotFound) {
		s.checkNotice(w, lang, "check_not_found")
		return
	}
	if err != nil {
		s.renderError(w, lang, http.StatusInternalServerError, "")
		return
	}
	if noticeKey != "" {
		p.Notice = p.T(noticeKey)
	}
	s.render(w, http.StatusOK, "thread", p)
}

// threadPage builds the page of the team's replies to receipt. The
// reporter's own words are never shown back: someone standing over them
// could make them reveal it. It logs a failure other than an unknown code.
func (s *server) threadPage(lang string, receipt vault.Receipt) (*page, error) {
	replies, info, err := s.store.Replies(receipt)
	if err != nil {
		if !errors.Is(err, vault.ErrNotFound) {
			s.log.Error().Err(err).Msg("failed to open replies")
		}
		return nil, err
	}
	p := s.newPage(lang, "check", "thread_title")
	p.Receipt = receipt.Reveal()
	p.Info = threadView{Read: info.Read}
	_, routeOK := s.cfg.routeByName(info.Route)
	p.Closed = !routeOK
	for _, e := range replies {
		rv := replyView{Author: isolate(e.Author, false), Day: isolate(e.Day, true), Text: e.Field("message")}
		for _, a := range e.Attachments {
			rv.Files = append(rv.Files, a.Name)
		}
		p.Replies = append(p.Replies, rv)
	}
	return p, nil
}

// isolate wraps s in Unicode's bidi isolates, for a name or a date set
// into a sentence in another script: in an Arabic sentence, the date
// 2026-03-11 would otherwise read 11-03-2026, its parts ordered right to
// left. A date is always left to right; a name takes its own direction.
func isolate(s string, ltr bool) string {
	if ltr {
		return "\u2066" + s + "\u2069" // LEFT-TO-RIGHT ISOLATE ... POP DIRECTIONAL ISOLATE
	}
	return "\u2068" + s + "\u2069" // FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE
}

// addMessage adds a follow-up to the receipt's thread.
func (s *server) addMessage(w http.ResponseWriter, r *http.Request, lang string) {
	teams := s.teams.load() // as for a report: the teams as it starts
	release, ok := s.admit(w, r, lang)
	if !ok {
		return
	}
	defer release()

	sub, ferr := parseSubmission(r)
	if sub != nil {
		for name := range sub.fields {
			if name != "receipt" && name != "message" && name != "website" {
				ferr = errBadForm
			}
		}
	}
	if ferr != nil {
		s.refuseFollowUp(w, lang, sub, ferr)
		return
	}
	receipt, ok := s.parseReceipt(w, lang, sub.fields["receipt"])
	if !ok {
		return
	}
	info, err := s.store.Thread(receipt)
	if errors.Is(err, vault.ErrNotFound) {
		s.checkNotice(w, lang, "check_not_found")
		return
	}
	if err != nil {
		s.log.Error().Err(err).Msg("failed to look up thread")
		s.renderFormError(w, lang, http.StatusInternalServerError, "")
		return
	}
	// A follow-up goes only to the team of the thread's own route: sending
	// it elsewhere could reach the very people a report was about.
	rt, ok := s.cfg.routeByName(info.Route)
	if !ok {
		s.showThread(w, lang, receipt, "")
		return
	}
	env := &vault.Envelope{
		Fields:      []vault.Field{{Name: "message", Value: sub.fields["message"]}, {Name: "language", Value: lang}},
		Attachments: sub.files,
	}
	free, ok := s.sealSlot(r)
	if !ok {
		s.refuseFollowUp(w, lang, sub, s.busyRefusal(w, sealRetry))
		return
	}
	defer free()
	if err := s.store.FollowUp(receipt, env, teams.recipients(rt.Name)); err != nil {
		if errors.Is(err, vault.ErrNotFound) {
			s.checkNotice(w, lang, "check_not_found")
			return
		}
		s.refuseFollowUp(w, lang, sub, s.storeRefusal(w, "failed to store follow-up", err))
		return
	}
	s.alerts.Activity(rt.Name)
	s.showThread(w, lang, receipt, "add_sent")
}
