package cases

import (
	"errors"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"

	"github.com/hearken-project/hearken/vault"
)

// recordTmpl is the printable case record. html/template escapes every
// word that came from a report or a colleague.
var recordTmpl = template.Must(template.New("record").Funcs(template.FuncMap{
	"stateText": recordState,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Safeguarding case record {{.Case.Case}}</title>
<style>
body{font:11pt/1.45 Georgia,"Times New Roman",serif;color:#111;max-width:48em;margin:2em auto;padding:0 1em}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;border-bottom:1px solid #999;margin-top:1.6em}
.conf{border:2px solid #111;padding:.4em .7em;font-weight:bold;margin:1em 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:.4em 0}dt{font-weight:bold}dd{margin:0}
.msg{border:1px solid #bbb;padding:.5em .8em;margin:.8em 0;page-break-inside:avoid}
.msg h3{font-size:1em;margin:0 0 .3em}.text{white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:plaintext}
.problem{color:#8a0000;font-weight:bold}
.danger{border:3px solid #8a0000;color:#8a0000;padding:.4em .7em;font-weight:bold;margin:1em 0}
.lang{font-style:italic;margin:.2em 0}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #bbb;padding:.25em .4em;text-align:left;vertical-align:top}.day{white-space:nowrap}
footer{margin-top:2em;font-size:.9em;color:#444}
@media print{body{margin:0}}
</style>
</head>
<body>
<h1>Safeguarding case record {{.Case.Case}}</h1>
<p class="conf">Confidential. Contains a child-protection concern. Share only with the agency this referral is for; store and destroy as your safeguarding policy says.</p>
{{if .Case.DangerNow}}<p class="danger">Danger at the time of the report: asked &ldquo;Is someone in danger right now?&rdquo;, the reporter answered yes.</p>
{{end}}<dl>
<dt>Case</dt><dd>{{.Case.Case}} (the same number on every lead's computer)</dd>
<dt>Reported through</dt><dd>the school&rsquo;s Hearken site, route &ldquo;{{.Case.Route}}&rdquo;</dd>
<dt>First received</dt><dd>{{.Case.Received}}</dd>
<dt>Status</dt><dd>{{.Case.Status}}</dd>
<dt>Category</dt><dd>{{or .Case.Category "not set"}}</dd>
<dt>Urgency</dt><dd>{{or .Case.Urgency "not set"}}</dd>
<dt>Assigned to</dt><dd>{{or .Case.Assigned "nobody"}}</dd>
<dt>Record made</dt><dd>{{.Day}} by {{.By}}</dd>
</dl>
<p>The reporter did not have to say who they are; any name or contact details they chose to give are in their report below. Dates are calendar days (UTC); no times are kept.</p>
<h2>Messages</h2>
{{if .Case.Notice}}<p class="problem">{{.Case.Notice}}</p>{{end}}
{{range .Case.Messages}}<div class="msg">
<h3>{{.Title}}, {{.Day}}{{with stateText .State}} ({{.}}){{end}}</h3>
{{if .Problem}}<p class="problem">This item {{.Problem}}</p>{{end}}
{{if .LanguageNote}}<p class="lang">{{.LanguageNote}}</p>{{end}}
{{range .Answers}}{{if .Choice}}<p><strong>{{.Label}}</strong> {{.Value}}</p>{{else}}{{if .Label}}<p><strong>{{.Label}}</strong></p>{{end}}<div class="text" dir="auto">{{.Value}}</div>{{end}}
{{end}}
{{if .Attachments}}<p><strong>Attachments</strong> (not included in this record)</p><ul>{{range .Attachments}}<li>{{.Name}} ({{.Type}}, {{.SizeText}}{{if not .Cleaned}}, identifying details not removed{{end}})</li>{{end}}</ul>{{end}}
</div>
{{end}}
<h2>Chronology</h2>
<table>
<thead><tr><th>#</th><th>Day</th><th>Who</th><th>What</th><th>Details</th></tr></thead>
<tbody>
{{range .Case.Chronology}}<tr><td>{{if .N}}{{.N}}{{end}}</td><td class="day">{{.Day}}</td><td>{{.Who}}</td><td>{{.What}}</td><td class="text" dir="auto">{{.Text}}</td></tr>
{{end}}</tbody>
</table>
<footer>Made with Hearken reviewer. The chronology is append-only: corrections appear as new entries.</footer>
</body>
</html>
`))

// recordState says where a reply written here is, in a record's words
// rather than the command line's.
func recordState(state string) string {
	switch {
	case state == "sent":
		return "sent to the reporter"
	case strings.HasPrefix(state, "queued"):
		return "not yet sent"
	case strings.HasPrefix(state, "not delivered"):
		return "not delivered"
	}
	return state
}

// Export writes a self-contained printable HTML record of a case to path,
// created with O_EXCL and mode 0600. It is plaintext: the caller warns.
func (s *Store) Export(number uint64, path string) error {
	cv, err := s.Show(number)
	if err != nil {
		return err
	}
	rec, err := s.record(cv)
	if err != nil {
		return err
	}
	if err := writeNew(path, rec); err != nil {
		return err
	}
	_, err = s.addEntry(cv.Thread, entry{What: "export", Text: "case record exported for referral"})
	return err
}

// ExportSealed writes a case's items exactly as they arrived into dir, one
// .age file each, so they can be opened with the standard age tool (and the
// member's key) or handed on still encrypted. Nothing is decrypted. It
// returns the files written, in arrival order, also when it stops early.
func (s *Store) ExportSealed(number uint64, dir string) ([]string, error) {
	rc, err := s.loadCaseNumber(number, true)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create %s: %w", dir, err)
	}
	var written []string
	for i, m := range rc.Items {
		name := filepath.Join(dir, fmt.Sprintf("%s-%02d-%s-%s.age", CaseNumber(number), i+1, m.Kind, m.Day))
		if err := writeNew(name, rc.Sealed[m.ID]); err != nil {
			return written, err
		}
		written = append(written, name)
	}
	return written, nil
}

// writeNew creates path with O_EXCL and mode 0600; it never overwrites.
func writeNew(path string, data []byte) error {
	err := vault.WriteNewFile(path, data, 0o600)
	if errors.Is(err, vault.ErrExists) {
		return fmt.Errorf("%s already exists; it will not be overwritten: choose another name", path)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
