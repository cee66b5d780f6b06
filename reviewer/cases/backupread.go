package cases

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
)

// Reading a backup: openBackup decrypts, readArchive checks the archive
// inside file by file. Every name is checked against the few a backup can
// hold before anything is done with it, so a backup can never write
// outside the store folder, and every size is bounded.

var (
	guidanceLang = regexp.MustCompile(`^[A-Za-z0-9_-]{1,16}$`)
	guidanceName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}\.txt$`)
)

// validEntryName reports whether name is one a backup may hold (besides
// its first file, the marker).
func validEntryName(name string) bool {
	switch name {
	case identityEntry, pubEntry, configFile, teamFile, storeFile:
		return true
	}
	if rest, ok := strings.CutPrefix(name, teamsDir+"/"); ok {
		route, ok := strings.CutSuffix(rest, ".txt")
		return ok && routeName.MatchString(route)
	}
	if rest, ok := strings.CutPrefix(name, guidanceDir+"/"); ok {
		lang, file, ok := strings.Cut(rest, "/")
		return ok && guidanceLang.MatchString(lang) && guidanceName.MatchString(file)
	}
	return false
}

func damaged(why string) error { return fmt.Errorf("%w: %s", ErrBackupDamaged, why) }

const whyCut = "it was cut short, or changed after it was made"

// openBackup decrypts a backup with passphrase.
func openBackup(r io.Reader, passphrase string) (io.Reader, error) {
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, ErrBackupPassphrase // only an empty passphrase
	}
	plain, err := age.Decrypt(r, id)
	var noMatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &noMatch) && !slices.Contains(noMatch.StanzaTypes, "scrypt"):
		return nil, damaged("it is sealed to a key rather than a passphrase, so it is not a Hearken backup")
	case errors.As(err, &noMatch):
		return nil, ErrBackupPassphrase
	case err != nil:
		// age's own message may quote what it read; say only what it means.
		return nil, damaged("it is not a Hearken backup, or its beginning is damaged")
	}
	return plain, nil
}

// ReadBackup decrypts and reads a whole backup without writing anything,
// and returns what it holds: reviewer backup reads back what it wrote.
func ReadBackup(r io.Reader, passphrase string) (BackupInfo, error) {
	plain, err := openBackup(r, passphrase)
	if err != nil {
		return BackupInfo{}, err
	}
	var info BackupInfo
	info.Day, err = readArchive(plain, func(name string, size int64, r io.Reader) error {
		h := sha256.New()
		if _, err := io.Copy(h, r); err != nil {
			return err
		}
		e := BackupEntry{Name: name, Size: size}
		h.Sum(e.SHA256[:0])
		info.Entries = append(info.Entries, e)
		return nil
	})
	return info, err
}

// readArchive reads the archive of a decrypted backup from r, checks each
// file's name, type and size, and hands every file but the marker to put,
// which reads it whole. It returns the day the backup was made. A backup
// that fails a check, or whose stream fails (age: changed or cut short),
// gives ErrBackupDamaged; an error of put's own is returned as it is.
func readArchive(r io.Reader, put func(name string, size int64, r io.Reader) error) (string, error) {
	src := &readTracker{r: r}
	tr := tar.NewReader(src)
	seen := map[string]bool{}
	day := ""
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) && src.err == nil {
			break
		}
		if err != nil {
			return "", damaged(whyCut)
		}
		switch {
		case n >= maxBackupEntries:
			return "", damaged("it holds too many files")
		case hdr.Typeflag != tar.TypeReg:
			return "", damaged("it holds something other than plain files")
		case n == 0 && hdr.Name != backupMarker:
			return "", damaged("it is not a Hearken backup")
		case n == 0:
			if hdr.Size > 4096 {
				return "", damaged("it is not a Hearken backup")
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				return "", damaged(whyCut)
			}
			if day, err = parseMarker(data); err != nil {
				return "", err
			}
			continue
		case !validEntryName(hdr.Name):
			return "", damaged("it holds a file a backup never has")
		case seen[hdr.Name]:
			return "", damaged("it holds a file twice")
		}
		limit := int64(maxSmallEntry)
		if hdr.Name == storeFile {
			limit = maxStoreEntry
		}
		if hdr.Size < 0 || hdr.Size > limit {
			return "", damaged("a file in it is larger than a backup holds")
		}
		seen[hdr.Name] = true
		in := &readTracker{r: tr}
		if err := put(hdr.Name, hdr.Size, in); err != nil {
			if in.err != nil || src.err != nil {
				return "", damaged(whyCut)
			}
			return "", err
		}
	}
	if day == "" {
		return "", damaged("it is not a Hearken backup")
	}
	// Read to the end of age's stream, so that its last chunk, which
	// proves nothing was cut off, is checked too.
	rest, err := io.Copy(io.Discard, io.LimitReader(src, 1<<20+1))
	switch {
	case err != nil:
		return "", damaged(whyCut)
	case rest > 1<<20:
		return "", damaged("it holds more than its files")
	case !seen[identityEntry]:
		return "", damaged("it holds no identity file")
	case !seen[storeFile]:
		return "", damaged("it holds no case store")
	}
	return day, nil
}

// parseMarker reads the first file of a backup and returns its day.
func parseMarker(data []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	if !sc.Scan() || sc.Text() != backupTitle {
		return "", damaged("it is not a Hearken backup")
	}
	version, day := "", ""
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ": ")
		switch k {
		case "version":
			version = v
		case "day":
			day = v
		}
	}
	if version != backupVersion {
		return "", damaged("it was made by another version of reviewer; use that version, or a newer one, to restore it")
	}
	if _, err := time.Parse("2006-01-02", day); err != nil {
		return "", damaged("it is not a Hearken backup")
	}
	return day, nil
}

// readTracker remembers the first error, other than the end, that reading
// from r gave: an error from age's stream means a damaged backup.
type readTracker struct {
	r   io.Reader
	err error
}

func (t *readTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

// VerifyBackup reads a backup just written back whole, with the passphrase
// it was written with, and checks that it holds exactly the files Backup
// said it wrote (wrote): reviewer backup and the desk do so before they
// call a backup made.
func VerifyBackup(r io.Reader, passphrase string, wrote BackupInfo) error {
	got, err := ReadBackup(r, passphrase)
	if err != nil {
		return fmt.Errorf("the backup did not read back: %w", err)
	}
	if !slices.Equal(got.Entries, wrote.Entries) {
		return errors.New("the backup did not read back the same as it was written")
	}
	return nil
}
