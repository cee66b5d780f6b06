package workfactor

import "testing"

func TestLowerForTests(t *testing.T) {
	if Default != 18 || Scrypt() != Default {
		t.Fatalf("default work factor %d (Scrypt %d), want age's 18", Default, Scrypt())
	}
	LowerForTests(10)
	defer func() { logN = Default }()
	if Scrypt() != 10 {
		t.Fatalf("Scrypt() = %d after LowerForTests(10)", Scrypt())
	}
}
