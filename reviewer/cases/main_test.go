package cases

import (
	"testing"

	"github.com/hearken-project/hearken/internal/testkit"
)

// TestMain lowers the scrypt work factor of the identity files and backups
// the tests write.
func TestMain(m *testing.M) { testkit.Main(m, nil) }
