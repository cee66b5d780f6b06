package cases

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/hearken-project/hearken/internal/attach"
	"github.com/hearken-project/hearken/vault"
)

// SavedAttachment is an attachment written to disk by SaveAttachments.
type SavedAttachment struct {
	Path    string
	Warning string // why the file was saved as .bin, for the member to read first
	Cleaned bool
}

// SaveAttachments writes every attachment of a case into dir, decrypted,
// each file created O_EXCL with mode 0600, and records that in the case's
// chronology. Names come from the reporter, or from whoever forged an
// item, so only a safe stem of the name is kept, prefixed with the
// message's place in the case (which also keeps it from ever being a name
// Windows reserves, like CON.txt); the extension is the one internal/attach
// names files of the checked type with, and only after the content is
// checked again to be of that type.
func (s *Store) SaveAttachments(number uint64, dir string) ([]SavedAttachment, error) {
	cv, err := s.Show(number)
	if err != nil {
		return nil, err
	}
	var saved []SavedAttachment
	for i, m := range cv.Messages {
		if m.envelope == nil {
			continue
		}
		for j, a := range m.envelope.Attachments {
			// The folder is made for the first file: a case without
			// attachments leaves no empty folder behind.
			if len(saved) == 0 {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					return nil, fmt.Errorf("failed to create %s: %w", dir, err)
				}
			}
			ext, warning := attachmentExtension(a)
			stem := strings.ReplaceAll(stemOf(safeFileName(a.Name)), ".", "_")
			name := fmt.Sprintf("%s-%02d-%d-%s%s", CaseNumber(number), i+1, j+1, stem, ext)
			path := filepath.Join(dir, name)
			if err := writeNew(path, a.Data); err != nil {
				return saved, err
			}
			saved = append(saved, SavedAttachment{Path: path, Warning: warning, Cleaned: a.Cleaned})
		}
	}
	if len(saved) > 0 {
		if _, err := s.addEntry(cv.Thread, entry{What: "export", Text: savedText(len(saved))}); err != nil {
			return saved, err
		}
	}
	return saved, nil
}

// neutralExtension names a file that no program should open by itself.
const neutralExtension = ".bin"

// attachmentExtension returns the extension to save a with: that of the
// type it was checked as (attach.Extension), once its content is checked
// again to be of that type. Otherwise it is .bin, with a warning that says
// why.
func attachmentExtension(a vault.Attachment) (ext, warning string) {
	ext = attach.Extension(a.Type)
	if ext == "" {
		return neutralExtension, fmt.Sprintf("its type (%s) is not one Hearken accepts, so it was saved as .bin; do not open it unless you know what it is", shortType(a.Type))
	}
	if f, err := attach.Clean("", a.Type, a.Data); err != nil || f.Type != a.Type {
		return neutralExtension, fmt.Sprintf("it says it is %s, but its content is not, so it was saved as .bin; do not open it unless you know what it is", shortType(a.Type))
	}
	return ext, ""
}

// shortType caps a type given by an item for a message.
func shortType(t string) string {
	if r := []rune(t); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return t
}

// stemOf is a name without its last extension.
func stemOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return name
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
