package alert

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"
	"time"
)

// TestMailsHaveOneLength: for any school name, every kind of alert to a set
// of recipients is the same number of bytes, so the size of an encrypted
// mail does not tell a danger alert from another.
func TestMailsHaveOneLength(t *testing.T) {
	for _, name := range []string{"", "A", school, "École Saint-Exupéry", "مدرسة النور", strings.Repeat("x", maxSchool)} {
		m := newMailer(from, []string{dsl, "second@school.example"}, name)
		tx := newTexts(name)
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		want := len(m.mail(kindActivity, now))
		for k := range numKinds {
			raw := m.mail(k, now.Add(time.Duration(k)*37*time.Hour))
			if len(raw) != want {
				t.Errorf("school %q: %v mail is %d bytes, activity %d", name, k, len(raw), want)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if got := bodyText(t, raw); got != tx[k] {
				t.Errorf("%v body %q, want %q", k, got, tx[k])
			}
			if _, err := msg.Header.Date(); err != nil {
				t.Errorf("Date: %v", err)
			}
			for _, line := range strings.Split(string(raw), "\r\n") {
				if len(line) > 78 {
					t.Errorf("line longer than 78: %q", line)
				}
			}
			if len(webhookBody(&tx, k)) != len(webhookBody(&tx, kindActivity)) {
				t.Errorf("school %q: %v webhook body differs in length", name, k)
			}
		}
	}
}
