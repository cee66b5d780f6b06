// Command intake runs Hearken's public site, where reporters send concerns
// and read the team's replies, and the staff channel the team syncs from.
//
//	intake serve [--data DIR] [--listen ADDR] [--staff-listen ADDR] (--config FILE | --demo)
//	intake check --config FILE
//	intake backup [--data DIR] --out FILE
package main

import (
	"os"

	"github.com/hearken-project/hearken/intake"
)

func main() {
	os.Exit(intake.Main(os.Args[1:], os.Stdout, os.Stderr))
}
