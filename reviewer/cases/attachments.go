package cases

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// SavedAttachment is an attachment written to disk by SaveAttachments.
type SavedAttachment struct {
	Path    string
	Cleaned bool
}

// SaveAttachments writes every attachment of a case into dir, decrypted,
// each file created O_EXCL with mode 0600, and records that in the case's
// chronology. Names come from the reporter, so they are reduced to a safe
// base name and prefixed with the message's place in the case.
func (s *Store) SaveAttachments(number uint64, dir string) ([]SavedAttachment, error) {
	cv, err := s.Show(number)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create %s: %w", dir, err)
	}
	var saved []SavedAttachment
	for i, m := range cv.Messages {
		if m.envelope == nil {
			continue
		}
		for j, a := range m.envelope.Attachments {
			name := fmt.Sprintf("%s-%02d-%d-%s", CaseNumber(number), i+1, j+1, safeFileName(a.Name))
			path := filepath.Join(dir, name)
			if err := writeNew(path, a.Data); err != nil {
				return saved, err
			}
			saved = append(saved, SavedAttachment{Path: path, Cleaned: a.Cleaned})
		}
	}
	if len(saved) > 0 {
		if _, err := s.addEntry(cv.Thread, entry{What: "export", Text: savedText(len(saved))}); err != nil {
			return saved, err
		}
	}
	return saved, nil
}

// safeFileName keeps letters, digits, dots, hyphens and underscores of a
// name's last element, so it cannot climb out of the folder, hide its type
// behind control characters, or start with a dot.
func safeFileName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 80 {
			break
		}
	}
	out := strings.TrimLeft(b.String(), ".")
	if out == "" {
		out = "attachment"
	}
	return out
}

// savedText is the chronology's words for n attachments saved.
func savedText(n int) string {
	if n == 1 {
		return "1 attachment saved to this computer"
	}
	return fmt.Sprintf("%d attachments saved to this computer", n)
}
