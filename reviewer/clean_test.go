package reviewer

import (
	"testing"

	"github.com/hearken-project/hearken/reviewer/cases"
)

func TestClean(t *testing.T) {
	in := "a\x1b[2Jb\u202ec\u2066d\u200be\x9bf\x7fg\th\ni\u2028j\xff"
	got := clean(in)
	for _, r := range got {
		if cases.UnsafeRune(r) || r == '\t' || r == '\n' {
			t.Errorf("clean left %U in %q", r, got)
		}
	}
	if want := "a\uFFFD[2Jb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\uFFFDg h i\uFFFDj\uFFFD"; got != want {
		t.Errorf("clean(%q) = %q, want %q", in, got, want)
	}
	if clean("Dana Lead — é") != "Dana Lead — é" {
		t.Error("clean changed a plain string")
	}
}
