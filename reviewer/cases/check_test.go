package cases

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

func TestStoreTamperedSetAside(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	good := f.item(t, th, vault.KindReport, "2026-03-01", "message", "ok")
	bad := f.item(t, th, vault.KindFollowUp, "2026-03-02", "message", "changed")
	bad.Sealed = bytes.Clone(bad.Sealed)
	bad.Sealed[len(bad.Sealed)-20] ^= 1
	stored, err := f.st.storeItems([]staff.Item{good, bad})
	if err != nil {
		t.Fatal(err)
	}
	aside := stored.SetAside
	if len(aside) != 1 || aside[0].ID != bad.ID || aside[0].Case != "HK-0000-0001" || !strings.Contains(aside[0].Reason, "changed") {
		t.Fatalf("set aside: %+v", aside)
	}
	cv, err := f.st.Show(1)
	if err != nil {
		t.Fatal(err)
	}
	if cv.Problems != 1 || cv.Messages[1].Problem == "" || cv.Messages[0].Problem != "" {
		t.Errorf("show: %+v", cv.Messages)
	}
	// Kept unchanged.
	var kept []byte
	f.st.db.View(func(tx *boltTx) error {
		var m itemMeta
		if err := getJSON(tx.Bucket(bItems), []byte(bad.ID), &m); err != nil {
			return err
		}
		kept = bytes.Clone(tx.Bucket(bSealed).Get(be(m.Order)))
		return nil
	})
	if !bytes.Equal(kept, bad.Sealed) {
		t.Error("the tampered item was not kept as received")
	}
}

func TestRouteNames(t *testing.T) {
	for route, ok := range map[string]bool{"students": true, "head-of-school": true, "a": true, "9": true,
		"": false, "Students": false, "-x": false, "a_b": false, "a b": false, strings.Repeat("a", 33): false,
		strings.Repeat("a", 32): true, "x\x1b": false, "x\u202e": false} {
		it := staff.Item{ID: uuid.NewString(), Thread: uuid.NewString(), Route: route,
			Kind: vault.KindReport, Day: "2026-03-01", Sealed: []byte("x")}
		if err := checkWireItem(it); (err == nil) != ok {
			t.Errorf("route %q: %v", route, err)
		}
	}
}
