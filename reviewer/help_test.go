package reviewer

import (
	"flag"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestHelpComplete shows reviewer help names every command and, on that
// command's lines, every option it takes, and names no option a command
// does not take.
func TestHelpComplete(t *testing.T) {
	c := &cli{stdout: io.Discard, stderr: io.Discard}
	lines := strings.Split(usage, "\n")
	optionRE := regexp.MustCompile(`--[a-z][a-z-]*`)
	for name, run := range c.commands() {
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		// An option no command has stops each before it does anything.
		if err := run(fs, []string{"--hearken-help-probe"}); err == nil {
			t.Fatalf("%s ran", name)
		}
		var takes []string
		fs.VisitAll(func(f *flag.Flag) { takes = append(takes, "--"+f.Name) })
		// The lines of this command: each "  reviewer NAME" line and the
		// more deeply indented lines under it.
		var block []string
		in := false
		for _, l := range lines {
			switch {
			case strings.HasPrefix(l, "  reviewer "+name+" ") || l == "  reviewer "+name:
				in = true
			case !strings.HasPrefix(l, "    "):
				in = false
			}
			if in {
				block = append(block, l)
			}
		}
		if len(block) == 0 {
			t.Errorf("help does not show reviewer %s", name)
			continue
		}
		text := strings.Join(block, "\n")
		for _, opt := range takes {
			if global := slices.Contains([]string{"--store", "--identity", "--passphrase-file"}, opt); !global && !strings.Contains(text, opt) {
				t.Errorf("help does not show reviewer %s %s", name, opt)
			}
		}
		for _, opt := range optionRE.FindAllString(text, -1) {
			if !slices.Contains(takes, opt) {
				t.Errorf("help shows reviewer %s %s, which it does not take", name, opt)
			}
		}
	}
	for _, opt := range []string{"--store DIR", "--identity FILE", "--passphrase-file FILE"} {
		if !strings.Contains(usage, opt) {
			t.Errorf("help does not show %s", opt)
		}
	}
}
