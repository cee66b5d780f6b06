package alert

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// kind is what an alert announces.
type kind int

const (
	kindActivity kind = iota
	kindDanger
	kindTest
	numKinds
)

func (k kind) String() string {
	switch k {
	case kindActivity:
		return "activity"
	case kindDanger:
		return "danger"
	default:
		return "test"
	}
}

// The fixed texts. The subjects are of equal length, and so are the
// priority headers, so that with the bodies padded to one length every
// alert to the same recipients has the same size whatever its kind: an
// observer of the encrypted connection to the mail server cannot tell a
// danger alert from another. TestMailsHaveOneLength holds them to it.
const (
	activityText    = "There is new activity on Hearken for %s. Open reviewer to read it."
	dangerText      = "A report says someone may be in danger now. Open reviewer now."
	testText        = "This is a test alert from Hearken for %s. Alerts reach you."
	activitySubject = "New activity on Hearken"
	dangerSubject   = "Urgent: danger reported"
	testSubject     = "Test alert from Hearken"
)

// texts holds the plain text of every kind for one school.
type texts [numKinds]string

func newTexts(school string) texts {
	return texts{
		kindActivity: strings.Replace(activityText, "%s", school, 1),
		kindDanger:   dangerText,
		kindTest:     strings.Replace(testText, "%s", school, 1),
	}
}

// padded returns the text of k followed by spaces to the length of the
// longest kind: trailing spaces no reader sees.
func (t *texts) padded(k kind) string {
	n := 0
	for _, s := range t {
		n = max(n, len(s))
	}
	return t[k] + strings.Repeat(" ", n-len(t[k]))
}

// mailer builds the mails for one set of recipients.
type mailer struct {
	from   string
	to     []string
	domain string // for Message-ID: the sender's own, never this host's name
	texts  texts
}

func newMailer(from string, to []string, school string) *mailer {
	_, domain, _ := strings.Cut(from, "@")
	return &mailer{from: from, to: to, domain: domain, texts: newTexts(school)}
}

// mail returns the message for k, sent at now. Only the Date and Message-ID
// headers differ between two messages of one kind; both have a fixed length.
// There is no X-Mailer, no host name, and no time but the Date, in UTC.
func (m *mailer) mail(k kind, now time.Time) []byte {
	var id [16]byte
	_, _ = rand.Read(id[:])
	subject, priority, xpriority := activitySubject, "normal", "3"
	switch k {
	case kindDanger:
		subject, priority, xpriority = dangerSubject, "urgent", "1"
	case kindTest:
		subject = testSubject
	}
	var b bytes.Buffer
	h := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	h("Date", now.UTC().Format(time.RFC1123Z))
	h("From", m.from)
	h("To", strings.Join(m.to, ",\r\n ")) // one address a line, however many
	h("Subject", subject)
	h("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+m.domain+">")
	h("Priority", priority)
	h("X-Priority", xpriority)
	h("Auto-Submitted", "auto-generated")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	body := base64.StdEncoding.EncodeToString([]byte(m.texts.padded(k) + "\r\n"))
	for len(body) > 76 {
		b.WriteString(body[:76] + "\r\n")
		body = body[76:]
	}
	b.WriteString(body + "\r\n")
	return b.Bytes()
}

// webhookBody returns the JSON posted to a chat webhook for k:
// {"text": "..."}, the form Slack, Mattermost, Rocket.Chat and Zulip's
// Slack-compatible hooks take, padded with white space to one length.
func webhookBody(t *texts, k kind) []byte {
	b, _ := json.Marshal(struct {
		Text string `json:"text"`
	}{t[k]})
	n := 0
	for k := range numKinds {
		s, _ := json.Marshal(t[k])
		n = max(n, len(s))
	}
	s, _ := json.Marshal(t[k])
	// Spaces before the closing brace keep the JSON valid.
	return append(b[:len(b)-1], append(bytes.Repeat([]byte(" "), n-len(s)), '}')...)
}
