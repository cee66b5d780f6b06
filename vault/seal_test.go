package vault

import (
	"errors"
	"strings"
	"testing"
)

// Sealing refuses what it cannot seal properly rather than sealing it
// badly: an envelope for nobody, or one over the 72 MiB ceiling, which
// no reader would open.
func TestSealRefuses(t *testing.T) {
	if _, err := Seal(&Envelope{Kind: KindReport}); err == nil || !strings.Contains(err.Error(), "no recipients") {
		t.Errorf("sealed to nobody: %v", err)
	}
	m, _ := testTeam(t, 1)
	big := &Envelope{Kind: KindReport, Attachments: []Attachment{{Name: "attachment-1.txt", Type: "text/plain", Data: make([]byte, maxPlainSize)}}}
	if _, err := Seal(big, m[0].Recipient()); !errors.Is(err, ErrTooLarge) {
		t.Errorf("an envelope over the ceiling: %v", err)
	}
}
