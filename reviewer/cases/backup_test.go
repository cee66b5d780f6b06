package cases

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

const (
	backupPass   = "correct horse canary-PASS-7f3a staple"
	reportCanary = "canary-REPORT-91c2 my lunch money"
	noteCanary   = "canary-NOTE-5d07 spoke to the head"
)

// backupFixture is a store with cases, a note, an identity file, settings,
// team and guidance files, ready to back up.
func backupFixture(t *testing.T) *storeFixture {
	t.Helper()
	f := newStoreFixture(t)
	var page []staff.Item
	for i := range 3 {
		th := f.thread()
		page = append(page, f.item(t, th, vault.KindReport, "2026-03-01", "message", reportCanary+strings.Repeat(" words", i*40)))
		page = append(page, f.item(t, th, vault.KindFollowUp, "2026-03-02", "message", "more"))
	}
	if _, err := f.st.storeItems(page); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Note(1, noteCanary, 0); err != nil {
		t.Fatal(err)
	}
	if err := vault.SaveMember(filepath.Join(f.dir, identityEntry), f.m, backupPass); err != nil {
		t.Fatal(err)
	}
	if err := SaveConfig(f.dir, Config{Server: "http://127.0.0.1:8443"}); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		pubEntry:                    f.m.TeamLine() + "\n",
		teamFile:                    f.m.TeamLine() + "\n" + f.peer.TeamLine() + "\n",
		"teams/students.txt":        f.m.TeamLine() + "\n",
		"guidance/en/bullying.txt":  "# Bullying\n\nOur own steps.\n",
		"guidance/en/not-ours.md":   "left out: not a guidance name",
		"record.html":               "an export: left out",
		"teams/Bad Route.txt":       "left out: not a route",
		"guidance/ar/neglect.txt":   "# Neglect\n",
		"cases.db.before-restore":   "left out",
		"guidance/../escape.txt":    "never",
		"teams/students.txt.backup": "left out",
	}
	for name, text := range files {
		p := filepath.Join(f.dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *storeFixture) backup(t *testing.T) ([]byte, BackupInfo) {
	t.Helper()
	var b bytes.Buffer
	info, err := f.st.Backup(&b, BackupOptions{IdentityFile: filepath.Join(f.dir, identityEntry), Passphrase: backupPass})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), info
}

// tree returns every file under dir with its mode and a hash of its bytes.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
			return nil
		}
		fi, _ := d.Info()
		v := fi.Mode().String()
		if d.Type().IsRegular() {
			data, _ := os.ReadFile(p)
			sum := sha256.Sum256(data)
			v += " " + string(sum[:])
		}
		out[p] = v
		return nil
	})
	return out
}

// TestBackupRestore backs up a store and restores it into an empty
// folder: the same cases, the same files, each mode 0600.
func TestBackupRestore(t *testing.T) {
	f := backupFixture(t)
	want, err := f.st.List()
	if err != nil {
		t.Fatal(err)
	}
	data, info := f.backup(t)
	if info.Cases != 3 || info.Day != "2026-03-10" {
		t.Errorf("backup info: %d cases, day %s", info.Cases, info.Day)
	}
	var names []string
	for _, e := range info.Entries {
		names = append(names, e.Name)
	}
	wantNames := []string{identityEntry, pubEntry, configFile, teamFile, "guidance/ar/neglect.txt", "guidance/en/bullying.txt", "teams/students.txt", storeFile}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("backup holds %q, want %q", names, wantNames)
	}
	read, err := ReadBackup(bytes.NewReader(data), backupPass)
	if err != nil || !reflect.DeepEqual(read.Entries, info.Entries) || read.Day != info.Day {
		t.Fatalf("ReadBackup: %v, %+v", err, read)
	}

	dir := filepath.Join(t.TempDir(), "new", "store")
	res, err := Restore(bytes.NewReader(data), RestoreOptions{Dir: dir, Passphrase: backupPass})
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "Dana Lead" || res.Cases != 3 || len(res.Written) != len(wantNames) || len(res.KeptAside) != 0 {
		t.Errorf("restore result: %+v", res)
	}
	for _, name := range wantNames {
		p := filepath.Join(dir, filepath.FromSlash(name))
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", name, fi.Mode())
		}
		if name == storeFile {
			continue
		}
		orig, _ := os.ReadFile(filepath.Join(f.dir, filepath.FromSlash(name)))
		if got, _ := os.ReadFile(p); !bytes.Equal(got, orig) {
			t.Errorf("%s differs after restore", name)
		}
	}
	for _, d := range []string{dir, filepath.Dir(dir), filepath.Join(dir, teamsDir)} {
		if fi, _ := os.Stat(d); fi.Mode().Perm() != 0o700 {
			t.Errorf("folder %s has mode %v", d, fi.Mode())
		}
	}
	m, err := vault.LoadMember(filepath.Join(dir, identityEntry), backupPass)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(dir, m, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.now = f.st.now
	got, err := st.List()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("restored list: %v\n got %+v\nwant %+v", err, got, want)
	}
	cv, err := st.Show(1)
	if err != nil || !strings.Contains(strings.Join(cvTexts(cv), "\n"), noteCanary) {
		t.Errorf("the note did not come back: %v", err)
	}
	// Nothing is left under a temporary name.
	for p := range tree(t, filepath.Dir(dir)) {
		if strings.Contains(filepath.Base(p), ".restore-") {
			t.Errorf("left behind: %s", p)
		}
	}
}

// cvTexts returns the texts of a case's chronology.
func cvTexts(cv *CaseView) []string {
	var out []string
	for _, e := range cv.Chronology {
		out = append(out, e.Text)
	}
	return out
}

// TestBackupIsAgeAndTar opens a backup with the age library and
// archive/tar alone, as `age -d | tar -x` would: the format is theirs.
func TestBackupIsAgeAndTar(t *testing.T) {
	f := backupFixture(t)
	data, _ := f.backup(t)
	id, _ := age.NewScryptIdentity(backupPass)
	r, err := age.Decrypt(bytes.NewReader(data), id)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(r)
	var first string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if first == "" {
			first = hdr.Name
			b, _ := io.ReadAll(tr)
			if !strings.HasPrefix(string(b), backupTitle+"\nversion: 1\nday: 2026-03-10\n") {
				t.Errorf("marker: %q", b)
			}
		}
		if hdr.Name == identityEntry {
			b, _ := io.ReadAll(tr)
			orig, _ := os.ReadFile(filepath.Join(f.dir, identityEntry))
			if !bytes.Equal(b, orig) {
				t.Error("the identity file is not carried as it is")
			}
		}
	}
	if first != backupMarker {
		t.Errorf("first file %q", first)
	}
}

// TestBackupCanaries: nothing the store or identity holds is readable in
// a backup, and no error of a failed restore repeats a secret.
func TestBackupCanaries(t *testing.T) {
	f := backupFixture(t)
	data, _ := f.backup(t)
	canaries := []string{backupPass, "canary-PASS", "canary-REPORT", "canary-NOTE", "Dana Lead", "Sam Deputy", "students", "127.0.0.1", "Our own steps"}
	if found := testkit.FindCanaries("the backup", string(data), canaries); len(found) > 0 {
		t.Errorf("readable in the backup: %q", found)
	}
	dir := t.TempDir()
	res, err := Restore(bytes.NewReader(data), RestoreOptions{Dir: dir, Passphrase: backupPass})
	if err != nil {
		t.Fatal(err)
	}
	_ = res
	// The restored folder is as the store keeps it: sealed.
	found, _, err := testkit.FindCanariesInDir(dir, []string{backupPass, "canary-REPORT", "canary-NOTE"})
	if err != nil || len(found) > 0 {
		t.Errorf("readable after restore: %q %v", found, err)
	}
	for _, pass := range []string{"canary-WRONG-passphrase", backupPass + "x"} {
		_, err := Restore(bytes.NewReader(data), RestoreOptions{Dir: t.TempDir(), Passphrase: pass})
		if !errors.Is(err, ErrBackupPassphrase) || strings.Contains(err.Error(), "canary") {
			t.Errorf("wrong passphrase: %v", err)
		}
	}
}

// TestRestoreBadBackups: a wrong passphrase, a cut-short, changed, padded
// or foreign file is refused calmly, and nothing changes: not in a new
// folder, not in one that holds files.
func TestRestoreBadBackups(t *testing.T) {
	f := backupFixture(t)
	data, _ := f.backup(t)
	hdrEnd := bytes.Index(data, []byte("\n--- ")) + 48 // past the header's MAC line
	flip := func(i int) []byte {
		b := bytes.Clone(data)
		b[i] ^= 0x04
		return b
	}
	cases := map[string][]byte{
		"empty":               nil,
		"not age":             []byte("hello, this is not a backup\n"),
		"header only":         data[:hdrEnd],
		"cut in the middle":   data[:len(data)/2],
		"last byte missing":   data[:len(data)-1],
		"last chunk missing":  data[:len(data)-len(data)%(64<<10+16)],
		"byte flipped early":  flip(hdrEnd + 100),
		"byte flipped middle": flip(len(data) / 2),
		"byte flipped last":   flip(len(data) - 1),
		"data appended":       append(bytes.Clone(data), 0),
		"stanza flipped":      flip(bytes.Index(data, []byte("scrypt")) + 10),
		"mac flipped":         flip(hdrEnd - 10),
		"sealed to a key":     testkit.SealedToKey(t, []byte("not a backup")),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			fresh := filepath.Join(t.TempDir(), "store")
			_, err := Restore(bytes.NewReader(b), RestoreOptions{Dir: fresh, Passphrase: backupPass})
			if !errors.Is(err, ErrBackupDamaged) && !(strings.Contains(name, "flipped") && errors.Is(err, ErrBackupPassphrase)) {
				t.Errorf("got %v", err)
			}
			if err != nil && strings.Contains(err.Error(), "canary") {
				t.Errorf("the error repeats a secret: %v", err)
			}
			if _, err := os.Stat(fresh); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the restore left %s", fresh)
			}
			// A folder with settings but no store: a failed restore
			// leaves it as it was.
			held := t.TempDir()
			os.WriteFile(filepath.Join(held, configFile), []byte("server = \"x\"\n"), 0o600)
			before := tree(t, held)
			if _, err := Restore(bytes.NewReader(b), RestoreOptions{Dir: held, Passphrase: backupPass}); err == nil {
				t.Fatal("restored")
			}
			if after := tree(t, held); !reflect.DeepEqual(before, after) {
				t.Errorf("a failed restore changed the folder: %v", after)
			}
			if _, err := ReadBackup(bytes.NewReader(b), backupPass); err == nil {
				t.Error("ReadBackup took it")
			}
		})
	}
	t.Run("wrong passphrase", func(t *testing.T) {
		fresh := filepath.Join(t.TempDir(), "store")
		_, err := Restore(bytes.NewReader(data), RestoreOptions{Dir: fresh, Passphrase: "correct horse battery stapler"})
		if !errors.Is(err, ErrBackupPassphrase) {
			t.Errorf("got %v", err)
		}
		if _, err := os.Stat(fresh); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the restore left %s", fresh)
		}
	})
}

// TestRestoreExisting: a store already there is replaced only when asked,
// and then kept aside; a file that differs from the backup's is named and
// nothing is changed; one the same as the backup's is no obstacle.
func TestRestoreExisting(t *testing.T) {
	f := backupFixture(t)
	data, _ := f.backup(t)

	// The same identity already there (copied by hand): no obstacle.
	dir := t.TempDir()
	orig, _ := os.ReadFile(filepath.Join(f.dir, identityEntry))
	os.WriteFile(filepath.Join(dir, identityEntry), orig, 0o600)
	res, err := Restore(bytes.NewReader(data), RestoreOptions{Dir: dir, Passphrase: backupPass})
	if err != nil || len(res.Unchanged) != 1 {
		t.Fatalf("identity already there: %v %+v", err, res)
	}

	// Now the store is there: refused without Replace, before anything.
	before := tree(t, dir)
	_, err = Restore(bytes.NewReader(data), RestoreOptions{Dir: dir, Passphrase: backupPass})
	if !errors.Is(err, ErrRestoreExists) || !strings.Contains(err.Error(), storeFile) {
		t.Errorf("store there: %v", err)
	}
	if !reflect.DeepEqual(before, tree(t, dir)) {
		t.Error("a refused restore changed the folder")
	}

	// Other settings, no store: named, nothing changed.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, configFile), []byte("server = \"http://elsewhere\"\n"), 0o600)
	os.WriteFile(filepath.Join(other, teamFile), []byte("# another team\n"), 0o600)
	before = tree(t, other)
	_, err = Restore(bytes.NewReader(data), RestoreOptions{Dir: other, Passphrase: backupPass})
	if !errors.Is(err, ErrRestoreExists) || !strings.Contains(err.Error(), configFile) || !strings.Contains(err.Error(), teamFile) {
		t.Errorf("other settings: %v", err)
	}
	if !reflect.DeepEqual(before, tree(t, other)) {
		t.Error("a refused restore changed the folder")
	}

	// With Replace: the store is replaced and kept aside, byte for byte.
	oldStore, _ := os.ReadFile(filepath.Join(dir, storeFile))
	os.WriteFile(filepath.Join(dir, configFile), []byte("server = \"http://elsewhere\"\n"), 0o600)
	res, err = Restore(bytes.NewReader(data), RestoreOptions{Dir: dir, Passphrase: backupPass, Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(res.KeptAside)
	if want := []string{filepath.Join(dir, storeFile+asideSuffix), filepath.Join(dir, configFile+asideSuffix)}; !reflect.DeepEqual(res.KeptAside, want) {
		t.Errorf("kept aside %q, want %q", res.KeptAside, want)
	}
	if kept, _ := os.ReadFile(filepath.Join(dir, storeFile+asideSuffix)); !bytes.Equal(kept, oldStore) {
		t.Error("the replaced store was not kept as it was")
	}
	if got, _ := os.ReadFile(filepath.Join(dir, configFile)); !bytes.Contains(got, []byte("127.0.0.1")) {
		t.Errorf("config not restored: %s", got)
	}
	// A second time, the kept copy is in the way: nothing is changed.
	before = tree(t, dir)
	_, err = Restore(bytes.NewReader(data), RestoreOptions{Dir: dir, Passphrase: backupPass, Replace: true})
	if err == nil || !strings.Contains(err.Error(), "in the way") {
		t.Errorf("kept copy in the way: %v", err)
	}
	if !reflect.DeepEqual(before, tree(t, dir)) {
		t.Error("a refused restore changed the folder")
	}
}

// TestRestoreOverDamagedOrBusyStore: Replace replaces a damaged store (the
// reason to restore), never one another command has open.
func TestRestoreOverDamagedOrBusyStore(t *testing.T) {
	f := backupFixture(t)
	data, _ := f.backup(t)

	busy := t.TempDir()
	st, err := Open(busy, f.m, true)
	if err != nil {
		t.Fatal(err)
	}
	before := tree(t, busy)
	_, err = Restore(bytes.NewReader(data), RestoreOptions{Dir: busy, Passphrase: backupPass, Replace: true})
	if !errors.Is(err, ErrStoreLocked) {
		t.Errorf("store in use: %v", err)
	}
	if !reflect.DeepEqual(before, tree(t, busy)) {
		t.Error("a refused restore changed the folder")
	}
	st.Close()

	for name, cut := range map[string]int{"truncated": 5000, "tiny": 100, "empty": 0} {
		dir := t.TempDir()
		whole, _ := os.ReadFile(storePath(f.dir))
		os.WriteFile(storePath(dir), whole[:cut], 0o600)
		if _, err := Restore(bytes.NewReader(data), RestoreOptions{Dir: dir, Passphrase: backupPass, Replace: true}); err != nil {
			t.Errorf("%s store: %v", name, err)
		}
		if _, err := Open(dir, f.m, false); err != nil {
			t.Errorf("%s store, after restore: %v", name, err)
		}
	}
}

// TestBackupRefusals: the identity file must open with the passphrase and
// be the store owner's.
func TestBackupRefusals(t *testing.T) {
	f := backupFixture(t)
	id := filepath.Join(f.dir, identityEntry)
	_, err := f.st.Backup(io.Discard, BackupOptions{IdentityFile: id, Passphrase: "not it"})
	if !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
	other, _ := vault.GenerateMember("Other")
	otherID := filepath.Join(t.TempDir(), identityEntry)
	vault.SaveMember(otherID, other, backupPass)
	if _, err := f.st.Backup(io.Discard, BackupOptions{IdentityFile: otherID, Passphrase: backupPass}); !errors.Is(err, ErrOtherIdentity) {
		t.Errorf("other identity: %v", err)
	}
}

// sealArchive encrypts a hand-made archive as a backup would be.
func sealArchive(t testing.TB, archive []byte) []byte {
	r, _ := age.NewScryptRecipient(backupPass)
	r.SetWorkFactor(testkit.ScryptWorkFactor)
	var b bytes.Buffer
	w, _ := age.Encrypt(&b, r)
	w.Write(archive)
	w.Close()
	return b.Bytes()
}

type tarFile struct {
	name string
	typ  byte
	data string
}

func makeTar(files ...tarFile) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range files {
		typ := f.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: f.name, Typeflag: typ, Mode: 0o600, Size: int64(len(f.data))}
		if typ != tar.TypeReg {
			hdr.Size, hdr.Linkname = 0, "/etc/passwd"
		}
		tw.WriteHeader(hdr)
		tw.Write([]byte(f.data))
	}
	tw.Close()
	return b.Bytes()
}

var goodMarker = tarFile{name: backupMarker, data: string(markerText("2026-03-10"))}

// TestRestoreRefusesForeignArchives: an archive that opens with the
// passphrase but is not what Backup writes is refused, and nothing is
// written anywhere: not outside the folder, not inside.
func TestRestoreRefusesForeignArchives(t *testing.T) {
	id, st := tarFile{name: identityEntry, data: "x"}, tarFile{name: storeFile, data: "y"}
	cases := map[string][]tarFile{
		"no marker":         {id, st},
		"marker not first":  {id, goodMarker, st},
		"newer version":     {{name: backupMarker, data: backupTitle + "\nversion: 2\nday: 2026-03-10\n"}, id, st},
		"no day":            {{name: backupMarker, data: backupTitle + "\nversion: 1\n"}, id, st},
		"climbs out":        {goodMarker, {name: "../escape.txt", data: "x"}, id, st},
		"absolute":          {goodMarker, {name: "/tmp/escape.txt", data: "x"}, id, st},
		"team climbs out":   {goodMarker, {name: "teams/../../escape.txt", data: "x"}, id, st},
		"guidance too deep": {goodMarker, {name: "guidance/en/x/y.txt", data: "x"}, id, st},
		"symlink":           {goodMarker, {name: configFile, typ: tar.TypeSymlink}, id, st},
		"folder":            {goodMarker, {name: "teams/", typ: tar.TypeDir}, id, st},
		"twice":             {goodMarker, id, id, st},
		"no identity":       {goodMarker, st},
		"no store":          {goodMarker, id},
		"too large":         {goodMarker, {name: configFile, data: strings.Repeat("x", maxSmallEntry+1)}, id, st},
		"not an identity":   {goodMarker, id, st},
		"empty":             {},
	}
	for name, files := range cases {
		t.Run(name, func(t *testing.T) {
			top := t.TempDir()
			dir := filepath.Join(top, "a", "store")
			_, err := Restore(bytes.NewReader(sealArchive(t, makeTar(files...))), RestoreOptions{Dir: dir, Passphrase: backupPass})
			if !errors.Is(err, ErrBackupDamaged) {
				t.Errorf("got %v", err)
			}
			if left := tree(t, top); len(left) != 1 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// TestRestoreStoreOfAnotherIdentity: the store and identity of a backup
// must belong together.
func TestRestoreStoreOfAnotherIdentity(t *testing.T) {
	f := backupFixture(t)
	other, _ := vault.GenerateMember("Other")
	otherID := filepath.Join(t.TempDir(), identityEntry)
	vault.SaveMember(otherID, other, backupPass)
	idData, _ := os.ReadFile(otherID)
	f.st.Close()
	store, _ := os.ReadFile(storePath(f.dir))
	archive := makeTar(goodMarker, tarFile{name: identityEntry, data: string(idData)}, tarFile{name: storeFile, data: string(store)})
	dir := filepath.Join(t.TempDir(), "store")
	_, err := Restore(bytes.NewReader(sealArchive(t, archive)), RestoreOptions{Dir: dir, Passphrase: backupPass})
	if !errors.Is(err, ErrBackupDamaged) || !strings.Contains(err.Error(), "another identity") {
		t.Errorf("got %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Error("the restore left the folder")
	}
}

// FuzzReadArchive: whatever a decrypted backup holds, reading it never
// panics, and every file it hands on has a name a backup may hold, a size
// within bounds and exactly that many bytes.
func FuzzReadArchive(f *testing.F) {
	id, st := tarFile{name: identityEntry, data: "x"}, tarFile{name: storeFile, data: "y"}
	f.Add(makeTar(goodMarker, id, st))
	f.Add(makeTar(goodMarker, id, tarFile{name: "teams/students.txt", data: "t"}, tarFile{name: "guidance/en/bullying.txt", data: "g"}, st))
	f.Add(makeTar(goodMarker, tarFile{name: "../x", data: "x"}, st))
	f.Add(makeTar(id, st))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		seen := map[string]bool{}
		day, err := readArchive(bytes.NewReader(data), func(name string, size int64, r io.Reader) error {
			if !validEntryName(name) || seen[name] {
				t.Fatalf("handed on %q", name)
			}
			seen[name] = true
			if size < 0 || (name != storeFile && size > maxSmallEntry) {
				t.Fatalf("size %d", size)
			}
			n, err := io.Copy(io.Discard, r)
			if err == nil && n != size {
				t.Fatalf("read %d of %d", n, size)
			}
			return err
		})
		if err == nil && (day == "" || !seen[identityEntry] || !seen[storeFile]) {
			t.Fatal("took an archive without its marker, identity or store")
		}
		if err != nil && !errors.Is(err, ErrBackupDamaged) {
			t.Fatalf("error outside ErrBackupDamaged: %v", err)
		}
	})
}

// TestReadBackupReadsToTheEnd: a backup cut short after its archive's end
// but before the end of age's stream is refused too, and so is one with
// more than its archive.
func TestReadBackupReadsToTheEnd(t *testing.T) {
	archive := makeTar(goodMarker, tarFile{name: identityEntry, data: "x"}, tarFile{name: storeFile, data: "y"})
	sealed := sealArchive(t, append(bytes.Clone(archive), make([]byte, 200<<10)...))
	if _, err := ReadBackup(bytes.NewReader(sealed), backupPass); err != nil {
		t.Fatalf("the whole file: %v", err)
	}
	payload := bytes.Index(sealed, []byte("\n--- ")) + 1
	payload += bytes.IndexByte(sealed[payload:], '\n') + 1 + 16 // the MAC line, the nonce
	cut := sealed[:payload+2*(64<<10+16)]                       // whole chunks, the last one gone
	if _, err := ReadBackup(bytes.NewReader(cut), backupPass); !errors.Is(err, ErrBackupDamaged) {
		t.Errorf("cut after the archive: %v", err)
	}
	long := sealArchive(t, append(bytes.Clone(archive), make([]byte, 2<<20)...))
	if _, err := ReadBackup(bytes.NewReader(long), backupPass); !errors.Is(err, ErrBackupDamaged) {
		t.Errorf("more than the archive: %v", err)
	}
}

// TestBackupTimesSayTheDay: inside the encrypted archive too, a backup
// says only the day it was made, not the time of day.
func TestBackupTimesSayTheDay(t *testing.T) {
	f := backupFixture(t)
	data, info := f.backup(t)
	plain, err := openBackup(bytes.NewReader(data), backupPass)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(plain)
	n := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if got := hdr.ModTime.UTC().Format(time.DateTime); got != info.Day+" 00:00:00" {
			t.Errorf("%s: time %s, want the day %s only", hdr.Name, got, info.Day)
		}
	}
	if n < 3 {
		t.Fatalf("the archive holds %d files", n)
	}
}
