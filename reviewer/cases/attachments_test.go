package cases

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

func TestSafeFileName(t *testing.T) {
	for in, want := range map[string]string{
		"photo.jpg":           "photo.jpg",
		"../../etc/passwd":    "passwd",
		`..\..\boot.ini`:      "boot.ini",
		".hidden":             "hidden",
		"":                    "attachment",
		"..":                  "attachment",
		"report\u202egnp.exe": "report_gnp.exe",
		"my notes (1).txt":    "my_notes__1_.txt",
		"café.png":            "café.png",
	} {
		if got := safeFileName(in); got != want {
			t.Errorf("safeFileName(%q) = %q, want %q", in, got, want)
		}
	}
	long := safeFileName(string(make([]byte, 500)) + ".txt")
	if len(long) > 81 {
		t.Errorf("long name kept %d bytes", len(long))
	}
}

// TestSaveAttachmentsExtension shows a saved attachment is named with the
// extension of the type its content is, never the one a (possibly forged)
// item gives: a type Hearken does not accept, or content that is not what
// its type says, is saved as .bin with a warning; the name never ends in a
// second, hidden extension, and is never a name Windows reserves.
func TestSaveAttachmentsExtension(t *testing.T) {
	f := newStoreFixture(t)
	var pngData bytes.Buffer
	if err := png.Encode(&pngData, image.NewGray(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	atts := []vault.Attachment{
		{Name: "attachment-1.txt", Type: "text/plain", Data: []byte("what they said\n")},
		{Name: "x.exe", Type: "application/x-msdownload", Data: []byte("MZ\x90\x00 not really")},
		{Name: "CON.txt", Type: "text/plain", Data: []byte("hello")},
		{Name: "photo.jpg", Type: "image/jpeg", Data: []byte("<html>not a photo</html>")},
		{Name: "report\u202egnp.exe", Type: "image/png", Data: pngData.Bytes()},
		{Name: "notes.txt.exe", Type: "text/plain", Data: []byte("hi")},
		{Name: "run.sh", Type: "text/plain\x1b[2J", Data: []byte("echo hi")},
	}
	e := &vault.Envelope{Kind: vault.KindReport, Day: "2026-03-01", Route: "students",
		Fields: []vault.Field{{Name: "message", Value: "see the files"}}, Attachments: atts,
		ReplyTo: f.reply.Recipient().String()}
	sealed, err := vault.Seal(e, f.team.Recipients()...)
	if err != nil {
		t.Fatal(err)
	}
	it := staff.Item{ID: uuid.NewString(), Thread: f.thread(), Route: "students", Kind: vault.KindReport, Day: "2026-03-01", Sealed: sealed}
	if _, err := f.st.storeItems([]staff.Item{it}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	saved, err := f.st.SaveAttachments(1, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ name, warning string }{
		{"HK-0000-0001-01-1-attachment-1.txt", ""},
		{"HK-0000-0001-01-2-x.bin", "its type (application/x-msdownload) is not one Hearken accepts"},
		{"HK-0000-0001-01-3-CON.txt", ""},
		{"HK-0000-0001-01-4-photo.bin", "it says it is image/jpeg, but its content is not"},
		{"HK-0000-0001-01-5-report_gnp.png", ""},
		{"HK-0000-0001-01-6-notes_txt.txt", ""},
		{"HK-0000-0001-01-7-run.bin", "is not one Hearken accepts"},
	}
	if len(saved) != len(want) {
		t.Fatalf("saved %d files, want %d", len(saved), len(want))
	}
	for i, w := range want {
		if got := filepath.Base(saved[i].Path); got != w.name {
			t.Errorf("attachment %d saved as %q, want %q", i+1, got, w.name)
		}
		if (w.warning == "") != (saved[i].Warning == "") || !strings.Contains(saved[i].Warning, w.warning) {
			t.Errorf("attachment %d: warning %q, want %q", i+1, saved[i].Warning, w.warning)
		}
		if w.warning != "" && !strings.Contains(saved[i].Warning, "saved as .bin") {
			t.Errorf("attachment %d: warning %q does not say what was done", i+1, saved[i].Warning)
		}
		data, err := os.ReadFile(saved[i].Path)
		if err != nil || !bytes.Equal(data, atts[i].Data) {
			t.Errorf("attachment %d: content changed (%v)", i+1, err)
		}
	}
}
