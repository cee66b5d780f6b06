package testkit

import (
	"os/exec"
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
