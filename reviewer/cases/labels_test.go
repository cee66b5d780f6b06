package cases

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// TestMessageLabels shows each item is named by its kind and author and
// each answer by its meaning, with the form's choices in words and the
// language said in words only where it helps.
func TestMessageLabels(t *testing.T) {
	f := newStoreFixture(t)
	th, th2 := f.thread(), f.thread()
	page := []staff.Item{
		f.item(t, th, vault.KindReport, "2026-03-01", "message", "he hits me", "about", "me", "danger", "yes",
			"when_where", "at home", "role", "student", "contact", "Sam, 07700 900123", "language", "ar", "colour", "blue"),
		f.item(t, th, vault.KindFollowUp, "2026-03-02", "message", "again", "language", "ar"),
		f.item(t, th, vault.KindReply, "2026-03-03", "message", "thank you"),
		f.item(t, th, vault.KindFollowUp, "2026-03-04", "message", "now in English", "language", "en"),
		f.item(t, th2, vault.KindReport, "2026-03-05", "message", "in English", "language", "en", "danger", "no"),
		f.item(t, th2, vault.KindFollowUp, "2026-03-06", "message", "in Welsh", "language", "cy"),
		f.item(t, th2, vault.KindFollowUp, "2026-03-07", "message", "forged", "language", "<b>\u202e"),
	}
	if _, err := f.st.storeItems(page); err != nil {
		t.Fatal(err)
	}
	cv, err := f.st.Show(1)
	if err != nil {
		t.Fatal(err)
	}
	var titles, notes []string
	for _, m := range cv.Messages {
		titles = append(titles, m.Title())
		notes = append(notes, m.LanguageNote)
	}
	if want := []string{"Report", "Follow-up from the reporter", "Reply from Sam Deputy", "Follow-up from the reporter"}; !reflect.DeepEqual(titles, want) {
		t.Errorf("titles %q, want %q", titles, want)
	}
	if want := []string{"The reporter wrote in Arabic.", "", "", "The reporter wrote this in English."}; !reflect.DeepEqual(notes, want) {
		t.Errorf("language notes %q, want %q", notes, want)
	}
	want := []Answer{
		{Label: "What happened", Value: "he hits me"},
		{Label: "Who it is about", Value: "me"},
		{Label: "Is someone in danger right now?", Value: "Yes", Choice: true},
		{Label: "When and where", Value: "at home"},
		{Label: "Who is the reporter?", Value: "A student", Choice: true},
		{Label: "Name and contact details the reporter chose to give", Value: "Sam, 07700 900123"},
		{Label: "colour", Value: "blue"},
	}
	if got := cv.Messages[0].Answers(); !reflect.DeepEqual(got, want) {
		t.Errorf("report answers\n%+v\nwant\n%+v", got, want)
	}
	for _, i := range []int{1, 2} {
		if got := cv.Messages[i].Answers(); len(got) != 1 || got[0].Label != "" {
			t.Errorf("%s answers %+v, want the words alone", cv.Messages[i].Title(), got)
		}
	}
	cv, err = f.st.Show(2)
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{cv.Messages[0].LanguageNote, cv.Messages[1].LanguageNote, cv.Messages[2].LanguageNote}; !reflect.DeepEqual(got, []string{"", "The reporter wrote this in Welsh.", ""}) {
		t.Errorf("language notes %q", got)
	}
	if m := (Message{Kind: vault.KindReply}); m.Title() != "Reply from the team" {
		t.Errorf("a reply without an author: %q", m.Title())
	}
	if got := languageName("pt-BR") + "|" + languageName("xx"); got != "Portuguese|the language with code xx" {
		t.Errorf("language names: %s", got)
	}
}

// TestDangerNow shows a report that says someone is in danger now is
// flagged in list, show and sync, and comes first until it is triaged.
func TestDangerNow(t *testing.T) {
	f := newStoreFixture(t)
	th := []string{f.thread(), f.thread(), f.thread()}
	first := []staff.Item{
		f.item(t, th[0], vault.KindReport, "2026-03-01", "message", "old", "danger", "no"),
		f.item(t, th[1], vault.KindReport, "2026-03-02", "message", "unsure", "danger", "unsure"),
	}
	fs, c := newFakeStaff(t, f.st, first)
	res, err := Sync(context.Background(), f.st, c)
	if err != nil || res.DangerNow || len(res.DangerCases) != 0 {
		t.Fatalf("sync without danger: %+v, %v", res, err)
	}
	if _, err := f.st.Triage(1, TriageChange{Urgency: "immediate"}); err != nil {
		t.Fatal(err)
	}
	fs.mu.Lock()
	fs.queue = append(fs.queue,
		f.item(t, th[2], vault.KindReport, "2026-03-09", "message", "knife", "danger", " Yes "),
		f.item(t, th[0], vault.KindFollowUp, "2026-03-09", "message", "more", "danger", "yes"))
	fs.mu.Unlock()
	res, err = Sync(context.Background(), f.st, c)
	if err != nil || !res.DangerNow || !reflect.DeepEqual(res.DangerCases, []string{"HK-0000-0003"}) {
		t.Fatalf("sync with danger: %+v, %v", res, err)
	}
	order := func() string {
		cs, err := f.st.List()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			s := c.Case
			if c.DangerNow {
				s += "!"
			}
			out = append(out, s)
		}
		return strings.Join(out, " ")
	}
	if got := order(); got != "HK-0000-0003! HK-0000-0001 HK-0000-0002" {
		t.Errorf("list before triage: %s", got)
	}
	cv, err := f.st.Show(3)
	if err != nil || !cv.DangerNow {
		t.Errorf("show: danger_now %v, %v", cv != nil && cv.DangerNow, err)
	}
	if _, err := f.st.Triage(3, TriageChange{Assign: "Dana Lead"}); err != nil {
		t.Fatal(err)
	}
	if got := order(); got != "HK-0000-0003! HK-0000-0001 HK-0000-0002" {
		t.Errorf("assigning is not triage: %s", got)
	}
	if _, err := f.st.Triage(3, TriageChange{Urgency: "medium"}); err != nil {
		t.Fatal(err)
	}
	if got := order(); got != "HK-0000-0001 HK-0000-0002 HK-0000-0003!" { // by urgency, then waiting
		t.Errorf("list after triage: %s", got)
	}
}
