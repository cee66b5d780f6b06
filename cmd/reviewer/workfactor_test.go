package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/reviewer"
)

// scryptWorkFactor reads the work factor from the scrypt stanza of the
// age file at path ("-> scrypt SALT LOGN").
func scryptWorkFactor(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 4 && fields[0] == "->" && fields[1] == "scrypt" {
			n, err := strconv.Atoi(fields[3])
			if err != nil {
				t.Fatalf("bad scrypt stanza %q", sc.Text())
			}
			return n
		}
		if strings.HasPrefix(sc.Text(), "---") {
			break
		}
	}
	t.Fatalf("%s has no scrypt stanza", path)
	return 0
}

// TestProductionWorkFactor runs reviewer as a user builds it (go run,
// which keeps the linked program in the build cache) and proves the
// identity file its keygen writes costs age's default 2^18 to open, while
// the same command inside this test binary writes the cheap factor tests
// use: the lowering cannot reach a real build.
func TestProductionWorkFactor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pass := filepath.Join(dir, "pass")
	if err := os.WriteFile(pass, []byte("correct horse battery staple\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	built := filepath.Join(dir, "built")
	// --store, not HOME: the go command keeps its caches under HOME.
	cmd := exec.Command("go", "run", ".", "--store", built, "--passphrase-file", pass, "keygen", "--name", "Dana Lead")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v: %s", err, out)
	}
	if got := scryptWorkFactor(t, filepath.Join(built, "member.identity")); got != 18 {
		t.Errorf("a built reviewer wrote work factor %d, want 18", got)
	}

	inTest := filepath.Join(dir, "in-test")
	var out, errb strings.Builder
	if rc := reviewer.Main([]string{"--passphrase-file", pass, "keygen", "--name", "Dana Lead", "--out", inTest}, nil, &out, &errb); rc != 0 {
		t.Fatalf("keygen: %s", errb.String())
	}
	if got := scryptWorkFactor(t, filepath.Join(inTest, "member.identity")); got != testkit.ScryptWorkFactor {
		t.Errorf("keygen in the test binary wrote work factor %d, want %d", got, testkit.ScryptWorkFactor)
	}
}
