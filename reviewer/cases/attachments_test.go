package cases

import "testing"

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
