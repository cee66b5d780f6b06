package intake

import (
	"bytes"
	"testing"

	"github.com/hearken-project/hearken/vault"
)

// The cached receipt page must be exactly what the template renders.
func TestReceiptPageCache(t *testing.T) {
	env := newEnv(t, "")
	for _, lang := range env.cfg.Languages {
		for _, danger := range []bool{false, true} {
			for range 2 { // the second round comes from the cache
				r, _ := vault.NewReceipt()
				p := env.srv.newPage(lang, "", "receipt_title")
				p.Receipt, p.DangerFirst = r.Reveal(), danger
				p.ReceiptHTML = breakableCode(p.Receipt)
				var want bytes.Buffer
				if err := pages["receipt"].ExecuteTemplate(&want, "layout", p); err != nil {
					t.Fatal(err)
				}
				got := env.srv.receiptPage(p)
				if !bytes.Equal(got, want.Bytes()) {
					t.Fatalf("%s danger=%v: cached page differs from the template", lang, danger)
				}
				if bytes.Count(got, []byte(r.Reveal())) != 1 || bytes.Count(got, []byte(breakableCode(r.Reveal()))) != 1 {
					t.Fatal("the code should appear twice: shown, and in the try-it form")
				}
			}
		}
	}
	p := env.srv.newPage("en", "", "receipt_title")
	p.Receipt = "<b>"
	if env.srv.receiptPage(p) != nil {
		t.Fatal("a code that would need escaping was spliced in")
	}
}
