package loadtest

import (
	"net/url"
	"testing"
)

func TestFindReceipt(t *testing.T) {
	tests := []struct {
		body string
		want string
		ok   bool
	}{
		{`<strong id="receipt">ABCD-EFGH-JKMN-PQRS-TVWX-Y</strong>`, "ABCD-EFGH-JKMN-PQRS-TVWX-Y", true},
		{`<p class="code" id="receipt" lang="en">
			<code>abcd efgh jkmn pqrs tvwx 5</code></p>`, "abcd efgh jkmn pqrs tvwx 5", true},
		{`<strong id="receipt">ABCD-<wbr>EFGH-<wbr>JKMN-<wbr>PQRS-<wbr>TVWX-<wbr>Y</strong>`, "ABCD-EFGH-JKMN-PQRS-TVWX-Y", true},
		{`<strong id="receipt">ABCD-EFGH</strong>`, "", false},                         // too short for 100 bits
		{`<strong id="receipt">ABCD-EFGH-JKMN-PQRS-TVWX-YZ!</strong>`, "", false},      // not base32
		{`<strong id="receipt">OOOO-IIII-LLLL-OOOO-IIII-L</strong>`, "", false},        // letters Crockford leaves out
		{`<strong id="receipt"></strong><p>ABCD-EFGH-JKMN-PQRS-TVWX-Y</p>`, "", false}, // empty element
		{`<strong id="code">ABCD-EFGH-JKMN-PQRS-TVWX-Y</strong>`, "", false},
		{`<p>Something went wrong</p>`, "", false},
	}
	for _, tt := range tests {
		got, ok := FindReceipt([]byte(tt.body))
		if got != tt.want || ok != tt.ok {
			t.Errorf("FindReceipt(%q) = %q, %v; want %q, %v", tt.body, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFormDefaults(t *testing.T) {
	page := `<form method="get" action="/search"><input name="q" value="nope"></form>
	<form method="POST" action="/en/report">
	<input type="hidden" name="route" value="school">
	<input type="text" name="role" value="student">
	<input type="radio" name="danger" value="yes"><input type="radio" name="danger" value="no" checked>
	<input type="checkbox" name="contact" checked><input type="checkbox" name="other">
	<input type="file" name="upload"><input type="submit" name="go" value="Send">
	<input type="hidden" name="off" value="x" disabled>
	<select name="about"><option value="bullying">B</option><option value="online" selected>O</option></select>
	<select name="when"><option value="today">T</option><option value="week">W</option></select>
	<textarea name="message">
draft</textarea>
	</form><input type="hidden" name="after" value="x">`
	got := FormDefaults([]byte(page))
	want := url.Values{
		"route": {"school"}, "role": {"student"}, "danger": {"no"}, "contact": {"on"},
		"about": {"online"}, "when": {"today"}, "message": {"draft"},
	}
	if got.Encode() != want.Encode() {
		t.Errorf("FormDefaults = %v, want %v", got, want)
	}
}

func TestShowsThread(t *testing.T) {
	thread := `<h1>Your messages</h1><form method="post" action="/en/check/add"><input type="hidden" name="receipt" value="X">` +
		`<textarea id="message" name="message"></textarea></form>`
	notFound := `<p class="notice">We could not find that code.</p><form method="post" action="/en/check">` +
		`<input id="receipt" name="receipt"></form>`
	if !ShowsThread([]byte(thread)) {
		t.Error("a thread's page was not recognised")
	}
	if ShowsThread([]byte(notFound)) {
		t.Error("the not-found answer was taken for a thread")
	}
}
