package testkit

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FindCanaries returns a line for each canary that text contains, without
// regard to case; where names the text ("the log").
func FindCanaries(where, text string, canaries []string) []string {
	var found []string
	lower := strings.ToLower(text)
	for _, c := range canaries {
		if strings.Contains(lower, strings.ToLower(c)) {
			found = append(found, fmt.Sprintf("%s contains %q", where, c))
		}
	}
	return found
}

// FindCanariesInDir looks for the canaries, without regard to case, in the
// name and the contents of everything under dir. It returns what it found
// and how many files it read, so a caller can tell an empty directory from
// a clean one.
func FindCanariesInDir(dir string, canaries []string) (found []string, files int, err error) {
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		found = append(found, FindCanaries("the name "+p, d.Name(), canaries)...)
		if d.IsDir() {
			return nil
		}
		files++
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		found = append(found, FindCanaries(p, string(data), canaries)...)
		return nil
	})
	return found, files, err
}
