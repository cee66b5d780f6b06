package vault

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	// Identity files in tests need no protection against guessing.
	scryptWorkFactor = 10
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
		return
	}
	os.Exit(m.Run())
}
