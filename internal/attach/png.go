package attach

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// pngKeep lists the chunks a cleaned PNG keeps as they are. An iCCP colour
// profile is kept only if it is a generic one (see cleanICCP); every other
// ancillary chunk (text, EXIF, time, and private or unknown ones) is
// dropped.
var pngKeep = map[string]bool{
	"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true,
	"tRNS": true, "gAMA": true, "cHRM": true, "sRGB": true,
	"sBIT": true, "pHYs": true, "bKGD": true,
}

// cleanPNG walks the PNG chunks, checks their structure and CRCs, and
// copies only the chunks in pngKeep. Anything after IEND is dropped. An
// unknown critical chunk cannot be dropped safely, so it is damage.
func cleanPNG(data []byte) ([]byte, error) {
	damaged := func(why string) ([]byte, error) {
		return nil, fmt.Errorf("%w: png %s", ErrDamaged, why)
	}
	if !bytes.HasPrefix(data, pngMagic) {
		return damaged("missing signature")
	}
	out := make([]byte, 0, len(data))
	out = append(out, pngMagic...)
	p := len(pngMagic)
	first, sawPLTE, sawIDAT, idatDone := true, false, false, false
	for {
		if len(data)-p < 12 {
			return damaged("truncated")
		}
		n := binary.BigEndian.Uint32(data[p:])
		if n > 1<<31-1 || uint64(len(data)-p-12) < uint64(n) {
			return damaged("bad chunk length")
		}
		end := p + 12 + int(n)
		chunk := data[p:end]
		typ := chunk[4:8]
		body := chunk[8 : 8+n]
		for _, c := range typ {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return damaged("bad chunk type")
			}
		}
		if crc32.ChecksumIEEE(chunk[4:8+n]) != binary.BigEndian.Uint32(chunk[8+n:]) {
			return damaged("bad chunk checksum")
		}
		p = end
		name := string(typ)
		critical := typ[0]&0x20 == 0

		if first != (name == "IHDR") {
			return damaged("bad header chunk")
		}
		first = false
		if sawIDAT && name != "IDAT" {
			idatDone = true
		}
		switch name {
		case "IHDR":
			if !validIHDR(body) {
				return damaged("bad header")
			}
		case "PLTE":
			if sawPLTE || sawIDAT || n == 0 || n%3 != 0 || n > 256*3 {
				return damaged("bad palette")
			}
			sawPLTE = true
		case "IDAT":
			if idatDone {
				return damaged("split image data")
			}
			sawIDAT = true
		case "IEND":
			if !sawIDAT || n != 0 {
				return damaged("bad end chunk")
			}
			return append(out, chunk...), nil
		case "iCCP":
			out = append(out, cleanICCP(body)...)
		default:
			if critical {
				return damaged("unknown critical chunk")
			}
		}
		if pngKeep[name] {
			out = append(out, chunk...)
		}
	}
}

// validIHDR checks the header fields against the PNG specification.
func validIHDR(b []byte) bool {
	if len(b) != 13 {
		return false
	}
	w, h := binary.BigEndian.Uint32(b[0:]), binary.BigEndian.Uint32(b[4:])
	if w == 0 || h == 0 || w > 1<<31-1 || h > 1<<31-1 {
		return false
	}
	depth, color := b[8], b[9]
	var ok bool
	switch color {
	case 0:
		ok = depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16
	case 3:
		ok = depth == 1 || depth == 2 || depth == 4 || depth == 8
	case 2, 4, 6:
		ok = depth == 8 || depth == 16
	}
	return ok && b[10] == 0 && b[11] == 0 && b[12] <= 1
}

// pngChunkBytes encodes one chunk: length, type, body and CRC.
func pngChunkBytes(typ string, body []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	c = append(append(c, typ...), body...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}
