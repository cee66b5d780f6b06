package attach

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"strings"
	"testing"
)

// deviceProfile is an ICC profile as a camera or a phone maker's software
// writes it: its description, copyright and header name the device, the
// maker and the day it was made.
var deviceProfile = []byte("\x00\x00\x0c\x48ADBE\x02\x10\x00\x00mntrRGB XYZ \x07\xe9\x00\x03\x00\x0e" +
	"acspAPPLCanonEOS R5 serial 0123456789 " + canary + strings.Repeat("\x00", 600))

// jpegICC returns a JPEG whose ICC profile is split over two APP2
// segments, as profiles over 64 KiB must be and some writers always do.
func jpegICC(t *testing.T, profile []byte) (withICC, original []byte, segments [][]byte) {
	original = makeJPEG(t, 9, 7)
	half := len(profile) / 2
	segments = [][]byte{
		cat([]byte("ICC_PROFILE\x00\x01\x02"), profile[:half]),
		cat([]byte("ICC_PROFILE\x00\x02\x02"), profile[half:]),
	}
	withICC = cat(original[:2], jpegSegment(0xE2, segments[0]), jpegSegment(0xE2, segments[1]), original[2:])
	return withICC, original, segments
}

// pngICC returns a PNG with the profile in an iCCP chunk.
func pngICC(t *testing.T, name string, profile []byte) (withICC, original, chunk []byte) {
	original = makePNG(t, 9, 7)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(profile)
	zw.Close()
	chunk = pngChunk("iCCP", cat([]byte(name+"\x00\x00"), z.Bytes()))
	const afterIHDR = 8 + 12 + 13
	return cat(original[:afterIHDR], chunk, original[afterIHDR:]), original, chunk
}

// An embedded colour profile can name the camera, its owner's software and
// a date: one that is not a well-known generic profile is removed.
func TestDeviceColourProfileRemoved(t *testing.T) {
	in, original, _ := jpegICC(t, deviceProfile)
	f, err := Clean("photo.jpg", "image/jpeg", in)
	if err != nil {
		t.Fatal(err)
	}
	if _, segs := jpegMarkers(t, f.Data); len(segs[0xE2]) != 0 {
		t.Errorf("JPEG: %d ICC segments kept", len(segs[0xE2]))
	}
	for _, s := range []string{canary, "Canon", "ICC_PROFILE"} {
		if bytes.Contains(f.Data, []byte(s)) {
			t.Errorf("JPEG: output still contains %q", s)
		}
	}
	if !bytes.Equal(f.Data, original) {
		t.Errorf("JPEG: output is not the image without its profile")
	}
	samePixels(t, decode(t, f.Data), decode(t, original))

	in, original, _ = pngICC(t, "Canon EOS R5", deviceProfile)
	f, err = Clean("photo.png", "image/png", in)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(pngChunks(t, f.Data), " "); strings.Contains(got, "iCCP") {
		t.Errorf("PNG: chunks %s keep the profile", got)
	}
	if !bytes.Equal(f.Data, original) {
		t.Errorf("PNG: output is not the image without its profile")
	}
}

// A well-known generic profile, the same bytes in millions of files, says
// nothing about who made a picture and is kept exactly, so colours stay
// right.
func TestGenericColourProfileKept(t *testing.T) {
	generic := []byte("a generic profile shipped unchanged by a maker" + strings.Repeat("\x00", 300))
	sum := sha256.Sum256(generic)
	genericProfiles[sum] = "test profile"
	t.Cleanup(func() { delete(genericProfiles, sum) })

	in, _, segments := jpegICC(t, generic)
	f, err := Clean("photo.jpg", "image/jpeg", in)
	if err != nil {
		t.Fatal(err)
	}
	if _, segs := jpegMarkers(t, f.Data); len(segs[0xE2]) != 2 || !bytes.Equal(segs[0xE2][0], segments[0]) || !bytes.Equal(segs[0xE2][1], segments[1]) {
		t.Errorf("JPEG: generic profile not kept as it was")
	}
	if !bytes.Equal(f.Data, in) {
		t.Errorf("JPEG with a generic profile and nothing else changed")
	}

	in, _, _ = pngICC(t, "ICC profile", generic)
	f, err = Clean("photo.png", "image/png", in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Data, in) {
		t.Errorf("PNG: generic profile not kept")
	}
	// The chunk's name is free text: any other name is replaced by the
	// one libpng writes.
	in, _, _ = pngICC(t, "Alex's phone", generic)
	want, _, _ := pngICC(t, "ICC profile", generic)
	if f, err := Clean("photo.png", "image/png", in); err != nil || !bytes.Equal(f.Data, want) {
		t.Errorf("PNG: a generic profile's free-text name was kept (err %v)", err)
	}
}

// A profile split over segments that do not add up, or compressed data
// that does not open, is removed rather than refused: the picture is fine.
func TestBrokenColourProfileRemoved(t *testing.T) {
	original := makeJPEG(t, 9, 7)
	in := cat(original[:2], jpegSegment(0xE2, []byte("ICC_PROFILE\x00\x02\x02half")), original[2:])
	if f, err := Clean("a.jpg", "", in); err != nil || !bytes.Equal(f.Data, original) {
		t.Errorf("JPEG with half a profile: err %v", err)
	}
	png := makePNG(t, 9, 7)
	const afterIHDR = 8 + 12 + 13
	in = cat(png[:afterIHDR], pngChunk("iCCP", []byte("x\x00\x00not zlib")), png[afterIHDR:])
	if f, err := Clean("a.png", "", in); err != nil || !bytes.Equal(f.Data, png) {
		t.Errorf("PNG with a broken profile: err %v", err)
	}
}
