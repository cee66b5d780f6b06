package vault

import (
	"testing"

	"github.com/hearken-project/hearken/internal/testkit"
)

func TestMain(m *testing.M) {
	testkit.Main(m, map[string]func() int{crashChildName: crashChild})
}
