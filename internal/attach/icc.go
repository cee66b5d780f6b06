package attach

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/hex"
	"io"
)

// genericProfiles are the SHA-256 sums of ICC colour profiles that programs
// ship and embed unchanged, the same bytes in every file: keeping one says
// nothing about who made a picture, and keeps its colours right. Any other
// profile is removed, because a profile is free to carry the device's
// maker and model, a creation date and free text. A picture without a
// profile is shown as sRGB, as most are; a wide-gamut photo may then look
// a little less saturated. Add a profile here only after checking its
// bytes are the published ones, with where they come from.
var genericProfiles = map[[32]byte]string{
	sum("eddaf344b5edea13269e0d20055f335610e5e0b6e33e6e536f2701bc18c5f7d5"): "sRGB, as Ghostscript ships it (srgb.icc, default_rgb.icc)",
	sum("2a92d4bae450b76d8b0aa42193df974d75f62738ecebf74f01c5e75b12a95796"): "sRGB, as icc-profiles-free ships it (sRGB.icc)",
}

func sum(s string) [32]byte {
	var b [32]byte
	if n, err := hex.Decode(b[:], []byte(s)); err != nil || n != len(b) {
		panic("attach: bad profile sum " + s)
	}
	return b
}

// maxProfile bounds an ICC profile read from a PNG's compressed iCCP
// chunk; generic profiles are a few KiB.
const maxProfile = 1 << 20

func genericProfile(profile []byte) bool {
	_, ok := genericProfiles[sha256.Sum256(profile)]
	return ok
}

// iccPNGName is the profile name libpng writes. An iCCP chunk's name is
// free text, so a kept profile is given this one.
const iccPNGName = "ICC profile"

// cleanICCP returns the iCCP chunk to keep for body, or nil to drop it.
func cleanICCP(body []byte) []byte {
	name, rest, ok := bytes.Cut(body, []byte{0})
	if !ok || len(name) == 0 || len(name) > 79 || len(rest) < 1 || rest[0] != 0 {
		return nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(rest[1:]))
	if err != nil {
		return nil
	}
	profile, err := io.ReadAll(io.LimitReader(zr, maxProfile+1))
	if err != nil || len(profile) > maxProfile || !genericProfile(profile) {
		return nil
	}
	return pngChunkBytes("iCCP", append([]byte(iccPNGName+"\x00"), rest...))
}

// iccSegments collects a JPEG's ICC_PROFILE segments, which may split one
// profile over several, numbered 1 to N.
type iccSegments struct {
	at    int      // where the first one was, in the output
	segs  [][]byte // whole segments, marker included, as they came
	parts map[byte][]byte
	count byte
	bad   bool
}

func (c *iccSegments) add(at int, marker, seg []byte) {
	payload := seg[2+len(iccPrefix):]
	if c.segs == nil {
		c.at = at
		c.parts = map[byte][]byte{}
	}
	c.segs = append(c.segs, append(append([]byte(nil), marker...), seg...))
	if len(payload) < 2 || payload[0] == 0 || payload[0] > payload[1] || c.count != 0 && c.count != payload[1] || c.parts[payload[0]] != nil {
		c.bad = true
		return
	}
	c.count = payload[1]
	c.parts[payload[0]] = payload[2:]
}

// keep returns the segments to put back, or nil if the profile is not a
// whole generic one.
func (c *iccSegments) keep() []byte {
	if c.segs == nil || c.bad || len(c.parts) != int(c.count) {
		return nil
	}
	var profile []byte
	for i := 1; i <= int(c.count); i++ {
		profile = append(profile, c.parts[byte(i)]...)
	}
	if !genericProfile(profile) {
		return nil
	}
	return bytes.Join(c.segs, nil)
}

const iccPrefix = "ICC_PROFILE\x00"
