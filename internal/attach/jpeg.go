package attach

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
)

// cleanJPEG walks the JPEG marker segments and keeps only what decoding
// needs plus the JFIF header (without its thumbnail), the ICC colour profile
// if it is a generic one (see genericProfiles) and the Adobe
// colour-transform flag. EXIF (and with it GPS and embedded
// thumbnails), XMP, IPTC, comments, other APPn segments and anything after
// the end-of-image marker are dropped. The entropy-coded data is copied
// untouched, so the picture is not re-encoded.
func cleanJPEG(data []byte) ([]byte, error) {
	damaged := func(why string) ([]byte, error) {
		return nil, fmt.Errorf("%w: jpeg %s", ErrDamaged, why)
	}
	if len(data) < 2 || data[0] != 0xFF || data[1] != 0xD8 {
		return damaged("missing start of image")
	}
	out := make([]byte, 0, len(data))
	out = append(out, 0xFF, 0xD8)
	p := 2
	sawFrame, sawScan := false, false
	var icc iccSegments
	for {
		if p >= len(data) || data[p] != 0xFF {
			return damaged("bad marker")
		}
		// Any number of 0xFF fill bytes may precede a marker.
		for p < len(data) && data[p] == 0xFF {
			p++
		}
		if p >= len(data) {
			return damaged("truncated")
		}
		m := data[p]
		p++
		switch {
		case m == 0xD9: // end of image; whatever follows is dropped
			if !sawScan {
				return damaged("no image data")
			}
			if keep := icc.keep(); keep != nil {
				out = slices.Insert(out, icc.at, keep...)
			}
			return append(out, 0xFF, 0xD9), nil
		case m == 0x01 || m >= 0xD0 && m <= 0xD7: // standalone markers
			out = append(out, 0xFF, m)
			continue
		case m == 0x00 || m == 0xD8:
			return damaged("bad marker")
		}

		if len(data)-p < 2 {
			return damaged("truncated")
		}
		n := int(binary.BigEndian.Uint16(data[p:]))
		if n < 2 || len(data)-p < n {
			return damaged("bad segment length")
		}
		seg := data[p : p+n] // length bytes and payload
		payload := seg[2:]
		p += n

		switch {
		case m == 0xE0:
			// Keep JFIF, but with no thumbnail: a thumbnail can show
			// what was cropped out of the picture.
			if n >= 16 && bytes.HasPrefix(payload, []byte("JFIF\x00")) {
				out = append(out, 0xFF, 0xE0, 0x00, 0x10)
				out = append(out, payload[:12]...)
				out = append(out, 0x00, 0x00)
			}
		case m == 0xE2 && bytes.HasPrefix(payload, []byte(iccPrefix)):
			icc.add(len(out), []byte{0xFF, m}, seg)
		case m == 0xEE && bytes.HasPrefix(payload, []byte("Adobe")):
			out = append(out, 0xFF, m)
			out = append(out, seg...)
		case m >= 0xE0 && m <= 0xEF, m == 0xFE, m >= 0xF0 && m <= 0xFD:
			// Metadata, comments and reserved extensions: dropped.
		case m == 0xDA:
			if !sawFrame {
				return damaged("scan before frame header")
			}
			sawScan = true
			out = append(out, 0xFF, m)
			out = append(out, seg...)
			// Entropy-coded data runs to the next 0xFF that is neither
			// a stuffed zero nor a restart marker.
			start := p
			for {
				if p+1 >= len(data) {
					return damaged("truncated image data")
				}
				if data[p] == 0xFF {
					next := data[p+1]
					if next != 0x00 && !(next >= 0xD0 && next <= 0xD7) {
						break
					}
					p++
				}
				p++
			}
			out = append(out, data[start:p]...)
		default:
			// Frame headers, Huffman and quantisation tables, restart
			// interval and the other markers decoding needs.
			if m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC {
				sawFrame = true
			}
			out = append(out, 0xFF, m)
			out = append(out, seg...)
		}
	}
}
