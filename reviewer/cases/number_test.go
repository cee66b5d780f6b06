package cases

import (
	"errors"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// TestCaseNumbers: a number is HK- and eight symbols from the thread id's
// first 40 bits, the same wherever it is computed, and reads back however
// it is typed.
func TestCaseNumbers(t *testing.T) {
	th := "4c13f8e8-aaec-4de0-bcfd-c2fe2bb649c0"
	n, err := NumberOf(th)
	if err != nil || n != 0x4c13f8e8aa || CaseNumber(n) != "HK-9G9Z-HT5A" {
		t.Fatalf("NumberOf = %x %s, %v", n, CaseNumber(n), err)
	}
	for _, in := range []string{"HK-9G9Z-HT5A", "hk-9g9z-ht5a", " hk 9g9z ht5a ", "9G9Z-HT5A", "9g9zht5a", "HK9G9ZHT5A", "#HK-9G9Z-HT5A"} {
		if got, err := ParseCaseNumber(in); err != nil || got != n {
			t.Errorf("ParseCaseNumber(%q) = %x, %v", in, got, err)
		}
	}
	// I, L and O are read as 1, 1 and 0.
	if got, _ := ParseCaseNumber("HK-0000-OIL1"); got != 0x0000000421 {
		t.Errorf("confusables: %x", got)
	}
	for _, in := range []string{"", "HK-", "banana!", "HK-9G9Z-HT5AX", "HK-UUUU-UUUU"} {
		if _, err := ParseCaseNumber(in); err == nil {
			t.Errorf("ParseCaseNumber(%q) accepted", in)
		}
	}
	for _, in := range []string{"HK-9G9Z", "hk 9g9", "HK-0001", "7", "#12"} {
		if err := CheckCaseRef(in); err != nil {
			t.Errorf("CheckCaseRef(%q): %v", in, err)
		}
	}
	// A word is not the start of a number: only "HK" and the start is.
	for _, in := range []string{"ba@na", "case-one", "banana", "9G9Z"} {
		if err := CheckCaseRef(in); err == nil {
			t.Errorf("CheckCaseRef accepted %q", in)
		}
	}
}

// TestFindCase finds a case by a unique start of its number, refuses a
// start two cases share naming both, and gives a thread whose number
// another case has one from its next bits, saying so.
func TestFindCase(t *testing.T) {
	f := newStoreFixture(t)
	a, b := testThread(0x4c13f8e8aa), testThread(0x4c13f00000)
	clash := testThread(0x4c13f8e8aa) // the same first 40 bits as a
	if _, err := f.st.storeItems([]staff.Item{f.item(t, a, vault.KindReport, "2026-03-01"), f.item(t, b, vault.KindReport, "2026-03-01"),
		f.item(t, clash, vault.KindReport, "2026-03-02")}); err != nil {
		t.Fatal(err)
	}
	if n, err := f.st.FindCase("hk-9g9z-ht"); err != nil || n != 0x4c13f8e8aa {
		t.Errorf("unique start: %x, %v", n, err)
	}
	if _, err := f.st.FindCase("HK-9G9Z"); err == nil || !strings.Contains(err.Error(), "HK-9G9Z-HT5A") || !strings.Contains(err.Error(), "HK-9G9Z-0000") {
		t.Errorf("shared start: %v", err)
	}
	if _, err := f.st.FindCase("HK-ZZZZ-ZZZZ"); !errors.Is(err, ErrNoCase) {
		t.Errorf("no case: %v", err)
	}
	all, _ := f.st.List()
	if len(all) != 3 {
		t.Fatalf("%d cases", len(all))
	}
	for _, c := range all {
		if c.Thread != clash {
			continue
		}
		if c.Case == "HK-9G9Z-HT5A" {
			t.Fatal("two cases share a number")
		}
		n, _ := ParseCaseNumber(c.Case)
		cv, _ := f.st.Show(n)
		if !strings.Contains(cv.Notice, "Another case had the number HK-9G9Z-HT5A first") {
			t.Errorf("notice %q", cv.Notice)
		}
	}
	// Former numbers, from before numbers were shared.
	f.st.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bFormer).Put(be(7), be(0x4c13f00000)) })
	if n, err := f.st.FindCase("HK-0007"); err != nil || n != 0x4c13f00000 {
		t.Errorf("former number: %x, %v", n, err)
	}
}

// FuzzCaseRef: parsing what a member types never panics, and a number
// reads back as itself.
func FuzzCaseRef(f *testing.F) {
	f.Add("HK-9G9Z-HT5A")
	f.Add("hk 0001")
	f.Add("#HKHK-1234")
	f.Fuzz(func(t *testing.T, s string) {
		CheckCaseRef(s)
		n, err := ParseCaseNumber(s)
		if err != nil {
			return
		}
		if n >= 1<<numberBits {
			t.Fatalf("%q read as %x", s, n)
		}
		if back, err := ParseCaseNumber(CaseNumber(n)); err != nil || back != n {
			t.Fatalf("%s does not read back", CaseNumber(n))
		}
	})
}
