package testkit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOnlyTestsImport keeps testkit out of every program: no package may
// import it from a non-test file.
func TestOnlyTestsImport(t *testing.T) {
	const self = "github.com/hearken-project/hearken/internal/testkit"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}: {{join .Imports " "}}`, "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ": ")
		for _, imp := range strings.Fields(imports) {
			if imp == self {
				t.Errorf("%s imports testkit outside its tests", pkg)
			}
		}
	}
	if !strings.Contains(string(out), "hearken/vault: ") {
		t.Fatalf("go list did not list the module's packages:\n%s", out)
	}
}

func TestFindCanaries(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "clean"), []byte("nothing here"), 0o600); err != nil {
		t.Fatal(err)
	}
	canaries := []string{"Zebra-Quartz"}
	if found, files, err := FindCanariesInDir(dir, canaries); err != nil || files != 1 || found != nil {
		t.Fatalf("clean directory: %v, %d files, %v", found, files, err)
	}
	os.WriteFile(filepath.Join(dir, "log"), []byte("a ZEBRA-quartz in the middle"), 0o600)
	os.WriteFile(filepath.Join(dir, "zebra-quartz.txt"), nil, 0o600)
	found, files, err := FindCanariesInDir(dir, canaries)
	if err != nil || files != 3 || len(found) != 2 {
		t.Fatalf("found %q in %d files: %v", found, files, err)
	}
	if got := FindCanaries("text", "no such thing", canaries); got != nil {
		t.Fatalf("found %q", got)
	}
}
