// Command reviewer is the safeguarding team's tool: it fetches sealed
// reports from a Hearken server, opens them on this computer, and keeps the
// case record, triage and replies encrypted at rest.
package main

import (
	"os"

	"github.com/hearken-project/hearken/reviewer"
)

func main() {
	os.Exit(reviewer.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
