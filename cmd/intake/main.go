// Command intake runs Hearken's public site, where reporters send concerns
// and read the team's replies, and the staff channel the team syncs from.
//
//	intake init --config FILE [--data DIR]
//	intake serve [--data DIR] [--listen ADDR] [--staff-listen ADDR]... [--accept-rollback] (--config FILE | --demo)
//	intake check --config FILE
//	intake backup [--data DIR] --out FILE
//	intake retention --config FILE [--data DIR] [--confirm-date] [--allow-large]
//	intake repair [--data DIR]
//
// init writes a commented config, team files to fill in and an empty store;
// serve runs the site (--demo with a throwaway team, to try it out); check
// checks a config and its team files; backup writes a verified copy of the
// store; retention says what the store makes of the clock and what
// retention would delete, and takes an operator's word on either.
// "intake help" says more. The commands are in package intake.
package main

import (
	"os"

	"github.com/hearken-project/hearken/intake"
)

func main() {
	os.Exit(intake.Main(os.Args[1:], os.Stdout, os.Stderr))
}
