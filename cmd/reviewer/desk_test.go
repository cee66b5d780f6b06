package main

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hearken-project/hearken/internal/browser"
	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/reviewer"
	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

// TestDeskInBrowser runs `reviewer serve` against the real staff channel
// and drives it in chromium with JavaScript off, as a lead would: open the
// printed link, sync, open the case, triage it, write a reply, preview it,
// send it, and see it sent; the reporter then reads it. It keeps
// screenshots at 1280 and 390 px, and runs axe-core (WCAG 2.2 AA) on the
// inbox, the case and the statistics.
func TestDeskInBrowser(t *testing.T) {
	b := browser.Start(t)
	axe := browser.AxeSource(t)
	store := t.TempDir()
	lead, err := vault.GenerateMember("Dana Lead")
	if err != nil {
		t.Fatal(err)
	}
	const pass = "correct horse battery staple"
	if err := vault.SaveMember(filepath.Join(store, "member.identity"), lead, pass); err != nil {
		t.Fatal(err)
	}
	passFile := filepath.Join(t.TempDir(), "pass")
	os.WriteFile(passFile, []byte(pass+"\n"), 0o600)
	os.WriteFile(filepath.Join(store, "team-src.txt"), []byte(lead.TeamLine()+"\n"), 0o600)
	team := parseTeam(t, lead)
	srv := newStaffServer(t, t.TempDir(), map[string]*vault.Team{"students": team})
	report := func(fields ...string) vault.Receipt {
		e := &vault.Envelope{}
		for i := 0; i+1 < len(fields); i += 2 {
			e.Fields = append(e.Fields, vault.Field{Name: fields[i], Value: fields[i+1]})
		}
		r, err := srv.store.CreateThread("students", e, team.Recipients())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	receipt := report("message", "A man I met in a game says he will send my photos to everyone at school unless I send more. I am scared.", "danger", "yes")
	second := report("message", "Some boys in year 8 keep taking my lunch money by the lockers.", "danger", "no")
	// The cases' numbers, as every reviewer shows them.
	number := func(r vault.Receipt) string {
		ti, err := srv.store.Thread(r)
		if err != nil {
			t.Fatal(err)
		}
		n, err := cases.NumberOf(ti.ID)
		if err != nil {
			t.Fatal(err)
		}
		return cases.CaseNumber(n)
	}
	first, next := number(receipt), number(second)
	report("message", "There is a lot of vaping in the toilets near the sports hall.", "danger", "unsure")
	if _, _, err := cases.InstallTeam(store, filepath.Join(store, "team-src.txt"), "students"); err != nil {
		t.Fatal(err)
	}
	if err := cases.SaveConfig(store, cases.Config{Server: srv.srv.URL}); err != nil {
		t.Fatal(err)
	}

	// reviewer serve, as the lead runs it.
	pr, pw := io.Pipe()
	var stderr testkit.Buffer
	done := make(chan int, 1)
	go func() {
		done <- reviewer.Main([]string{"--store", store, "--passphrase-file", passFile,
			"serve", "--listen", "127.0.0.1:0", "--sync-every", "0", "--lang", "en"}, nil, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reviewer serve printed no address: %v (exit %v)", err, <-done)
	}
	go io.Copy(io.Discard, pr)
	start := strings.TrimSpace(line)
	if !strings.HasPrefix(start, "http://127.0.0.1:") {
		t.Fatalf("printed %q", start)
	}
	t.Cleanup(func() {
		// Ctrl+C, as the lead stops it.
		syscall.Kill(os.Getpid(), syscall.SIGINT)
		if code := <-done; code != 0 {
			t.Errorf("reviewer serve exited %d: %s", code, stderr.String())
		}
		// What the desk showed and was sent stays in the browser and the
		// encrypted store: none of it in its output or in any file.
		canaries := []string{"send my photos", "lunch money", "You are not in trouble", pass}
		for _, c := range testkit.FindCanaries("reviewer serve's output", stderr.String(), canaries) {
			t.Errorf("found %s", c)
		}
		found, files, err := testkit.FindCanariesInDir(store, canaries)
		if err != nil || files == 0 {
			t.Errorf("searched %d files: %v", files, err)
		}
		for _, c := range found {
			t.Errorf("found %s", c)
		}
	})

	tab := b.NewTab(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	wait := func(text string) string {
		t.Helper()
		html, err := tab.WaitFor(text)
		if err != nil {
			t.Fatalf("%v:\n%s", err, html)
		}
		return html
	}
	// A case number is read aloud and compared between colleagues: it
	// must never break across lines, at its hyphens or anywhere else.
	numbersWhole := func(width int) {
		t.Helper()
		broken, err := chromedp.Run(tab.Context(), chromedp.Evaluate[[]string](`[...document.querySelectorAll(".inbox .case a")].filter(a => {
			const h = a.getBoundingClientRect().height;
			a.style.whiteSpace = "nowrap";
			const one = a.getBoundingClientRect().height;
			a.style.whiteSpace = "";
			return h > one;
		}).map(a => a.textContent)`))
		must(err)
		if len(broken) > 0 {
			t.Errorf("case numbers broken across lines at %d px: %v", width, broken)
		}
	}
	shot := func(name string) {
		t.Helper()
		_, err := tab.Screenshot(name)
		must(err)
	}
	base := strings.SplitN(start, "/open", 2)[0]
	if code, err := tab.Load(start, 1280); err != nil || code != 200 {
		t.Fatalf("the printed link: %d, %v", code, err)
	}
	wait("No cases yet")
	// The link works once.
	if code, err := b.NewTab(t).Load(start, 1280); err != nil || code != 403 {
		t.Errorf("the link worked twice: %d, %v", code, err)
	}

	// Sync from the button; the progress page reloads itself until done.
	must(tab.Click(`form[action="/sync"] button`))
	wait("Last synced")
	shot("sync-1280")
	must(tab.Click(`main a[href="/"]`))
	html := wait(`href="/case/` + first + `"`)
	if !strings.Contains(html, "Danger now") || !strings.Contains(html, `href="/stats"`) {
		t.Errorf("inbox after sync:\n%s", html)
	}
	shot("inbox-1280")
	numbersWhole(1280)

	// The danger case is first; open it.
	must(tab.Click(`tr.dn a[href^="/case/"]`))
	html = wait("The reporter said someone may be in danger now")
	if !strings.Contains(html, "send my photos") {
		t.Fatalf("case page:\n%s", html)
	}
	shot("case-1280")

	// Triage.
	must(tab.Choose(`#t-category`, "online exploitation or sextortion"))
	must(tab.Choose(`#t-urgency`, "immediate"))
	must(tab.Type(`#t-assign`, "Dana Lead"))
	must(tab.Click(`form[action*="/triage"] button`))
	html = wait("Triage saved")
	for _, want := range []string{"Take It Down", "Keep the evidence", "category: (none) → online exploitation or sextortion", "assigned to: (none) → Dana Lead"} {
		if !strings.Contains(html, want) {
			t.Errorf("after triage, no %q", want)
		}
	}
	shot("case-triaged-1280")

	// Reply: preview, then send, then see it sent.
	const answer = "Thank you for telling us. You are not in trouble. Do not send anything more; we will help you today."
	must(tab.Type(`textarea[name="message"]`, answer))
	must(tab.Click(`button[value="preview"]`))
	html = wait("Preview: what the reporter will see")
	if !strings.Contains(html, "From Dana Lead on") {
		t.Errorf("preview:\n%s", html)
	}
	shot("reply-preview-1280")
	must(tab.Click(`button[value="send"]`))
	wait("Reply saved")
	// The sync the reply started sends it; reloading shows it sent.
	if err := testkit.WaitFor(testkit.Patience, func() bool {
		_, err := tab.Load(base+"/case/"+first, 1280)
		html, _ := tab.HTML()
		return err == nil && strings.Contains(html, "<strong>Sent</strong>")
	}); err != nil {
		t.Fatalf("the reply was never marked sent: %v", err)
	}
	shot("reply-sent-1280")
	replies, _, err := srv.store.Replies(receipt)
	if err != nil || len(replies) != 1 || replies[0].Field("message") != answer {
		t.Fatalf("the reporter reads %v, %v", replies, err)
	}

	must(tab.Click(`a[href="/stats"]`))
	wait("Reports received per month")
	shot("stats-1280")

	// The same pages on a phone.
	for name, path := range map[string]string{"inbox": "/", "case": "/case/" + first, "stats": "/stats"} {
		_, err := tab.Load(base+path, 390)
		must(err)
		shot(name + "-390")
		if name == "inbox" {
			numbersWhole(390)
		}
		if w, err := tab.ScrollWidth(); err != nil || w > 390 {
			t.Errorf("%s is %d px wide on a 390 px phone (%v)", path, w, err)
		}
	}

	// Lock, and unlock with the passphrase.
	_, err = tab.Load(base+"/", 1280)
	must(err)
	must(tab.Click(`form[action="/lock"] button`))
	wait("The desk is locked")
	shot("locked-1280")
	must(tab.Type(`#passphrase`, pass))
	must(tab.Click(`form[action="/unlock"] button`))
	wait(`href="/case/` + first + `"`)

	// Accessibility: axe-core's WCAG 2.2 AA rules, in a tab of the same
	// browser (the same session) with the page's scripts off.
	axeTab := b.NewTab(t)
	for _, path := range []string{"/", "/case/" + first, "/stats", "/case/" + next} {
		_, err := axeTab.Load(base+path, 1280)
		must(err)
		res, err := axeTab.Axe(axe)
		must(err)
		t.Logf("axe %s: %d violations, %d rules passed", path, len(res.Violations), res.Passes)
		for _, v := range res.Violations {
			t.Errorf("axe %s: %s", path, v)
		}
	}

	// The backup page: on a wide screen and a phone, and through axe.
	for _, width := range []int{1280, 390} {
		_, err := tab.Load(base+"/backup", width)
		must(err)
		wait("Save a backup")
		shot("backup-" + strconv.Itoa(width))
		if w, err := tab.ScrollWidth(); err != nil || w > width {
			t.Errorf("/backup is %d px wide on a %d px screen (%v)", w, width, err)
		}
	}
	_, err = axeTab.Load(base+"/backup", 1280)
	must(err)
	res, err := axeTab.Axe(axe)
	must(err)
	t.Logf("axe /backup: %d violations, %d rules passed", len(res.Violations), res.Passes)
	for _, v := range res.Violations {
		t.Errorf("axe /backup: %s", v)
	}
}
