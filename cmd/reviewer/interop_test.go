package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hearken-project/hearken/reviewer"
	"github.com/hearken-project/hearken/vault"
)

var (
	ageOnce sync.Once
	ageBin  string
	ageErr  string
)

// buildAge builds the real age command from the module cache, offline.
func buildAge(t *testing.T) string {
	ageOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hearken-age-")
		if err != nil {
			ageErr = err.Error()
			return
		}
		bin := filepath.Join(dir, "age")
		build := exec.Command("go", "build", "-o", bin, "filippo.io/age/cmd/age")
		// Never -mod=mod here: that would rewrite the project's go.sum.
		build.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly")
		out1, err := build.CombinedOutput()
		if err == nil {
			ageBin = bin
			return
		}
		// The project's go.sum may lack the age command's own dependencies.
		// Build it in a scratch copy of the module, whose go.sum may be
		// completed from the module cache without touching the project.
		out2, err := buildAgeScratch(dir, bin)
		if err == nil {
			ageBin = bin
			return
		}
		ageErr = "in-module build: " + strings.TrimSpace(string(out1)) + "; scratch build: " + strings.TrimSpace(string(out2))
	})
	if ageBin == "" {
		t.Skipf("cannot build the age command offline, skipping the interoperability test: %s", ageErr)
	}
	return ageBin
}

// TestAgeInterop seals a report with the vault, fetches it with reviewer,
// exports the member's age identity with the CLI, and opens the item with
// the real age command.
func TestAgeInterop(t *testing.T) {
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

	st, err := reviewer.OpenStore(store, m, true)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := reviewer.NewClient(srv.srv.URL, "", m)
	c.PageSize = 10
	if _, err := reviewer.Sync(context.Background(), st, c); err != nil {
		t.Fatal(err)
	}
	c.Close()
	st.Close()
	// The only member acknowledged the item, so it left the queue; the
	// local store holds the same bytes.
	sealed := localSealed(t, store, m)
	itemPath := filepath.Join(dir, "item.age")
	os.WriteFile(itemPath, sealed, 0o600)

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

func localSealed(t *testing.T, store string, m *vault.Member) []byte {
	t.Helper()
	st, err := reviewer.OpenStore(store, m, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b, err := st.SealedItems(1)
	if err != nil || len(b) == 0 {
		t.Fatalf("no local item: %v", err)
	}
	return b[0]
}

func buildAgeScratch(dir, bin string) ([]byte, error) {
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return nil, err
	}
	mod := filepath.Join(strings.TrimSpace(string(root)), "go.mod")
	scratch := filepath.Join(dir, "mod")
	if err := os.MkdirAll(scratch, 0o700); err != nil {
		return nil, err
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(filepath.Dir(mod), f))
		if err != nil {
			return nil, err
		}
		if f == "go.mod" {
			data = []byte(strings.Replace(string(data), "module github.com/hearken-project/hearken", "module agebuild", 1))
		}
		if err := os.WriteFile(filepath.Join(scratch, f), data, 0o600); err != nil {
			return nil, err
		}
	}
	build := exec.Command("go", "build", "-o", bin, "filippo.io/age/cmd/age")
	build.Dir = scratch
	build.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
	return build.CombinedOutput()
}
