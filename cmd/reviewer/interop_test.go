package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/reviewer"
	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

// buildAge builds the standard age command at the version go.mod pins as
// a tool, so the test opens items with the real thing. go tool keeps the
// binary in the build cache, so it is linked only when the pin changes.
func buildAge(t *testing.T) string {
	var stderr bytes.Buffer
	cmd := exec.Command("go", "tool", "-n", "age")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("failed to build the age command: %v: %s", err, stderr.Bytes())
	}
	bin := strings.TrimSpace(string(out))
	if _, err := os.Stat(bin); err != nil || filepath.Base(bin) != "age" {
		t.Fatalf("go tool -n age gave %q: %v", bin, err)
	}
	return bin
}

// TestAgeInterop seals a report with the vault, fetches it with reviewer,
// exports the member's age identity with the CLI, and opens the item with
// the real age command.
func TestAgeInterop(t *testing.T) {
	t.Parallel()
	age := buildAge(t)
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	pass := filepath.Join(dir, "pass")
	os.WriteFile(pass, []byte("correct horse battery\n"), 0o600)
	var out, errb bytes.Buffer
	if rc := reviewer.Main([]string{"--store", store, "--passphrase-file", pass, "keygen", "--name", "Dana Lead"}, nil, &out, &errb); rc != 0 {
		t.Fatalf("keygen: %s", errb.String())
	}
	m, err := vault.LoadMember(filepath.Join(store, "member.identity"), "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	srv := newStaffServer(t, dir, map[string]*vault.Team{"students": parseTeam(t, m)})
	srv.report(t, "students", "someone is hurting my friend")

	st, err := cases.Open(store, m, true)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := cases.NewClient(srv.srv.URL, "", m)
	c.PageSize = 10
	if _, err := cases.Sync(context.Background(), st, c); err != nil {
		t.Fatal(err)
	}
	c.Close()
	st.Close()
	// The only member acknowledged the item, so it left the queue; the
	// local copy, exported as received, is what age opens.
	out.Reset()
	if rc := reviewer.Main([]string{"--store", store, "--passphrase-file", pass, "export-sealed", cases.CaseNumber(srv.caseOf(t, 0)), "--out", filepath.Join(dir, "sealed")}, nil, &out, &errb); rc != 0 {
		t.Fatalf("export-sealed: %s", errb.String())
	}
	itemPath := strings.TrimSpace(out.String())
	if base := filepath.Base(itemPath); !strings.HasPrefix(base, cases.CaseNumber(srv.caseOf(t, 0))+"-01-report-") || !strings.HasSuffix(base, ".age") {
		t.Fatalf("export-sealed wrote %q", itemPath)
	}

	idPath := filepath.Join(dir, "plain.key")
	out.Reset()
	errb.Reset()
	if rc := reviewer.Main([]string{"--store", store, "--passphrase-file", pass, "export-age-identity", "--out", idPath}, nil, &out, &errb); rc != 0 {
		t.Fatalf("export-age-identity: %s", errb.String())
	}
	if !strings.Contains(errb.String(), "Warning") {
		t.Errorf("no warning printed: %q", errb.String())
	}
	if fi, err := os.Stat(idPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity file mode: %v %v", fi.Mode(), err)
	}
	// Never overwritten.
	if rc := reviewer.Main([]string{"--store", store, "--passphrase-file", pass, "export-age-identity", "--out", idPath}, nil, &out, &errb); rc == 0 {
		t.Error("export-age-identity overwrote a file")
	}

	cmd := exec.Command(age, "-d", "-i", idPath, itemPath)
	plain, err := cmd.Output()
	if err != nil {
		t.Fatalf("age -d: %v", err)
	}
	var e vault.Envelope
	if err := json.NewDecoder(bytes.NewReader(plain)).Decode(&e); err != nil {
		t.Fatalf("age output is not the JSON envelope: %v", err)
	}
	if e.Kind != vault.KindReport || e.Field("message") != "someone is hurting my friend" || !strings.HasPrefix(e.ReplyTo, "age1pq1") {
		t.Errorf("age decrypted %+v", e)
	}
	// A wrong identity fails in age too.
	other, _ := vault.GenerateMember("Other")
	otherPath := filepath.Join(dir, "other.key")
	os.WriteFile(otherPath, []byte(other.Identity().String()+"\n"), 0o600)
	if err := exec.Command(age, "-d", "-i", otherPath, itemPath).Run(); err == nil {
		t.Error("age opened the item with another member's key")
	}
}
