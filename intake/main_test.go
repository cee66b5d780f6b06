package intake

import (
	"testing"

	"github.com/hearken-project/hearken/internal/testkit"
)

// The demo writes an identity file; tests need not pay scrypt's full cost.
func TestMain(m *testing.M) { testkit.Main(m, nil) }
