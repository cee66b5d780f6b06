package deploy

import _ "embed"

// Torrc is the Tor configuration in torrc, which intake init writes, with
// the installation's own paths, beside the intake config.
//
//go:embed torrc
var Torrc string

// The paths torrc uses, which intake init replaces with the installation's.
const (
	TorrcDataDir       = "/var/lib/hearken/"
	TorrcStaffOnionDir = "/var/lib/tor/hearken-staff/"
	// TorrcStaffMarker starts the staff onion service's part of torrc.
	TorrcStaffMarker = "## ---- The staff onion service"
)
