package attach

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

const canary = "HEARKEN-CANARY-7f3a9c"

// gpsLatitude is the GPSLatitude value written into test EXIF: 51/1 30/1 26/1.
var gpsLatitude = []byte{0, 0, 0, 51, 0, 0, 0, 1, 0, 0, 0, 30, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 1}

func testImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(x * 13), uint8(y * 29), uint8(x*y + 7), uint8(255 - x*3)})
		}
	}
	return img
}

func makeJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(w, h), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func makePNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testImage(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegSegment(marker byte, payload []byte) []byte {
	s := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(payload)+2))
	return append(s, payload...)
}

func pngChunk(typ string, body []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	c = append(c, typ...)
	c = append(c, body...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// tiffWithGPS builds a big-endian TIFF structure as found in EXIF: IFD0
// with an ImageDescription holding the canary and a GPS IFD with a position.
func tiffWithGPS() []byte {
	be := binary.BigEndian
	desc := append([]byte(canary), 0)
	const ifd0 = 8
	descOff := ifd0 + 2 + 2*12 + 4
	gpsOff := descOff + len(desc)
	if gpsOff%2 == 1 {
		gpsOff++
	}
	latOff := gpsOff + 2 + 3*12 + 4
	b := []byte("MM\x00\x2a")
	b = be.AppendUint32(b, ifd0)
	entry := func(tag, typ uint16, count, value uint32) {
		b = be.AppendUint16(b, tag)
		b = be.AppendUint16(b, typ)
		b = be.AppendUint32(b, count)
		b = be.AppendUint32(b, value)
	}
	b = be.AppendUint16(b, 2)
	entry(0x010E, 2, uint32(len(desc)), uint32(descOff))
	entry(0x8825, 4, 1, uint32(gpsOff))
	b = be.AppendUint32(b, 0)
	b = append(b, desc...)
	for len(b) < gpsOff {
		b = append(b, 0)
	}
	b = be.AppendUint16(b, 3)
	entry(0x0000, 1, 4, 0x02020000)      // GPSVersionID
	entry(0x0001, 2, 2, uint32('N')<<24) // GPSLatitudeRef
	entry(0x0002, 5, 3, uint32(latOff))  // GPSLatitude
	b = be.AppendUint32(b, 0)
	return append(b, gpsLatitude...)
}

// jpegWithMetadata returns a JPEG carrying the canary in every kind of
// metadata a phone or editor writes, plus segments that must survive.
func jpegWithMetadata(t testing.TB) (spliced, original []byte) {
	original = makeJPEG(t, 33, 17)
	thumb := []byte(canary)
	for len(thumb)%3 != 0 {
		thumb = append(thumb, 0)
	}
	jfif := cat([]byte("JFIF\x00\x01\x02\x00\x00\x48\x00\x48"), []byte{byte(len(thumb) / 3), 1}, thumb)
	exif := cat([]byte("Exif\x00\x00"), tiffWithGPS())
	xmp := cat([]byte("http://ns.adobe.com/xap/1.0/\x00"), []byte(`<x:xmpmeta><rdf:Description exif:GPSLatitude="51,30N" dc:creator="`+canary+`"/></x:xmpmeta>`))
	iptc := cat([]byte("Photoshop 3.0\x00"+"8BIM\x04\x04\x00\x00\x00\x00\x00\x20\x1c\x02\x50\x00\x15"), []byte(canary))
	icc := []byte("ICC_PROFILE\x00\x01\x01fake-profile-bytes")
	mpf := cat([]byte("MPF\x00"), []byte(canary))
	adobe := []byte("Adobe\x00\x64\x00\x00\x00\x00\x01")

	// Put a comment (and some fill bytes) between the tables and the scan
	// too, where a naive cleaner that only looks at the header would miss it.
	sos := bytes.Index(original, []byte{0xFF, 0xDA})
	if sos < 0 {
		t.Fatal("encoder wrote no scan")
	}
	spliced = cat(original[:2],
		jpegSegment(0xE0, jfif),
		jpegSegment(0xE1, exif),
		jpegSegment(0xE1, xmp),
		jpegSegment(0xED, iptc),
		jpegSegment(0xFE, []byte(canary)),
		jpegSegment(0xE2, icc),
		jpegSegment(0xE2, mpf),
		jpegSegment(0xEE, adobe),
		original[2:sos],
		jpegSegment(0xFE, []byte(canary)),
		[]byte{0xFF, 0xFF},
		original[sos:],
		[]byte("trailer:"+canary))
	return spliced, original
}

// pngWithMetadata returns a PNG carrying the canary in text, EXIF, time and
// private chunks, plus chunks that must survive.
func pngWithMetadata(t testing.TB) (spliced, original []byte) {
	original = makePNG(t, 19, 11)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(canary))
	zw.Close()
	const afterIHDR = 8 + 12 + 13
	iend := len(original) - 12
	spliced = cat(original[:afterIHDR],
		pngChunk("gAMA", []byte{0, 0, 0xB1, 0x8F}),
		pngChunk("pHYs", []byte{0, 0, 0x0B, 0x13, 0, 0, 0x0B, 0x13, 1}),
		pngChunk("tEXt", []byte("Comment\x00"+canary)),
		pngChunk("zTXt", cat([]byte("Author\x00\x00"), z.Bytes())),
		pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"+canary)),
		pngChunk("eXIf", tiffWithGPS()),
		pngChunk("tIME", []byte{0x07, 0xE9, 3, 14, 15, 9, 26}),
		pngChunk("prVt", []byte(canary)),
		original[afterIHDR:iend],
		pngChunk("tEXt", []byte("Late\x00"+canary)),
		original[iend:],
		[]byte(canary))
	return spliced, original
}

func jpegMarkers(t *testing.T, b []byte) (markers []byte, segs map[byte][][]byte) {
	t.Helper()
	segs = map[byte][][]byte{}
	p := 2
	for p+2 <= len(b) {
		if b[p] != 0xFF {
			t.Fatalf("no marker at %d", p)
		}
		m := b[p+1]
		markers = append(markers, m)
		if m == 0xD9 {
			return markers, segs
		}
		n := int(binary.BigEndian.Uint16(b[p+2:]))
		segs[m] = append(segs[m], b[p+4:p+2+n])
		p += 2 + n
		if m == 0xDA {
			for p+1 < len(b) && (b[p] != 0xFF || b[p+1] == 0 || b[p+1] >= 0xD0 && b[p+1] <= 0xD7) {
				p++
			}
		}
	}
	t.Fatal("no end of image")
	return nil, nil
}

func pngChunks(t *testing.T, b []byte) []string {
	t.Helper()
	var names []string
	for p := 8; p+12 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[p:]))
		names = append(names, string(b[p+4:p+8]))
		p += 12 + n
	}
	return names
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return img
}

func samePixels(t *testing.T, got, want image.Image) {
	t.Helper()
	if got.Bounds() != want.Bounds() {
		t.Fatalf("bounds = %v, want %v", got.Bounds(), want.Bounds())
	}
	b := want.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, g1, b1, a1 := got.At(x, y).RGBA()
			r2, g2, b2, a2 := want.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				t.Fatalf("pixel (%d,%d) differs", x, y)
			}
		}
	}
}

func assertNoMetadata(t *testing.T, out []byte) {
	t.Helper()
	for _, s := range [][]byte{[]byte(canary), gpsLatitude, []byte("Exif"), []byte("xap/1.0"), []byte("8BIM"), []byte("MPF")} {
		if bytes.Contains(out, s) {
			t.Errorf("output still contains %q", s)
		}
	}
}

func TestCleanJPEG(t *testing.T) {
	in, original := jpegWithMetadata(t)
	samePixels(t, decode(t, in), decode(t, original)) // the fixture itself is valid

	f, err := Clean("IMG_0042.JPG", "image/jpeg", in)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "IMG_0042.jpg" || f.Type != "image/jpeg" || !f.Cleaned {
		t.Errorf("got %q %q %v", f.Name, f.Type, f.Cleaned)
	}
	out := f.Data
	assertNoMetadata(t, out)
	samePixels(t, decode(t, out), decode(t, original))

	markers, segs := jpegMarkers(t, out)
	for _, m := range markers {
		if m == 0xE1 || m == 0xED || m == 0xFE || m >= 0xE3 && m <= 0xED {
			t.Errorf("marker %#x kept", m)
		}
	}
	if len(segs[0xE0]) != 1 || len(segs[0xE0][0]) != 14 || !bytes.HasSuffix(segs[0xE0][0], []byte{0, 0}) {
		t.Errorf("JFIF segment not kept without thumbnail: %q", segs[0xE0])
	}
	if len(segs[0xE2]) != 0 {
		t.Errorf("a profile that is not a generic one was kept: %q", segs[0xE2])
	}
	if len(segs[0xEE]) != 1 {
		t.Errorf("Adobe segment not kept")
	}
	if !bytes.HasSuffix(out, []byte{0xFF, 0xD9}) {
		t.Errorf("output does not end at end of image")
	}

	// A plain encoder output has nothing to remove and comes back unchanged.
	f2, err := Clean("a.jpg", "", original)
	if err != nil || !bytes.Equal(f2.Data, original) {
		t.Errorf("clean JPEG changed (err %v)", err)
	}
}

func TestCleanPNG(t *testing.T) {
	in, original := pngWithMetadata(t)
	samePixels(t, decode(t, in), decode(t, original))

	f, err := Clean("screenshot.png", "image/png", in)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "screenshot.png" || f.Type != "image/png" || !f.Cleaned {
		t.Errorf("got %q %q %v", f.Name, f.Type, f.Cleaned)
	}
	out := f.Data
	assertNoMetadata(t, out)
	if got, want := strings.Join(pngChunks(t, out), " "), "IHDR gAMA pHYs IDAT IEND"; got != want {
		t.Errorf("chunks = %s, want %s", got, want)
	}
	samePixels(t, decode(t, out), decode(t, original))

	f2, err := Clean("a.png", "", original)
	if err != nil || !bytes.Equal(f2.Data, original) {
		t.Errorf("clean PNG changed (err %v)", err)
	}
}

func TestCleanPassThrough(t *testing.T) {
	text := []byte("\ufeffSomeone in year 9 keeps sending me messages.\r\nÇa me fait peur. 😟\n\tEnd.\f")
	pdf := []byte("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
	for _, tc := range []struct {
		name, declared string
		data           []byte
		wantName       string
		wantType       string
	}{
		{"what happened.txt", "text/plain; charset=utf-8", text, "what happened.txt", "text/plain"},
		{"notes", "", text, "notes.txt", "text/plain"},
		{"letter.PDF", "application/pdf", pdf, "letter.pdf", "application/pdf"},
		{"letter.pdf", "application/octet-stream", pdf, "letter.pdf", "application/pdf"},
	} {
		f, err := Clean(tc.name, tc.declared, tc.data)
		if err != nil {
			t.Errorf("%q: %v", tc.name, err)
			continue
		}
		if !bytes.Equal(f.Data, tc.data) || f.Name != tc.wantName || f.Type != tc.wantType || f.Cleaned {
			t.Errorf("%q: got %q %q cleaned=%v", tc.name, f.Name, f.Type, f.Cleaned)
		}
	}
}

func TestCleanRejects(t *testing.T) {
	jpg := makeJPEG(t, 16, 16)
	pngData := makePNG(t, 8, 8)
	spliced, _ := pngWithMetadata(t)
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	random[0] = 0x80 // not a magic number by chance

	badCRC := bytes.Clone(pngData)
	badCRC[len(badCRC)-20] ^= 0x01 // inside IDAT
	gAMAFirst := cat(pngData[:8], pngChunk("gAMA", []byte{0, 0, 0xB1, 0x8F}), pngData[8:])
	critical := cat(pngData[:33], pngChunk("CgBI", []byte{0, 0, 0, 0}), pngData[33:])
	noIEND := pngData[:len(pngData)-12]
	hugeIDAT := bytes.Clone(pngData)
	binary.BigEndian.PutUint32(hugeIDAT[33:], 0xFFFFFFF0)
	badIHDR := cat(pngData[:8], pngChunk("IHDR", []byte{0, 0, 0, 0, 0, 0, 0, 1, 8, 6, 0, 0, 0}), pngData[33:])

	jpegNoScan := []byte{0xFF, 0xD8, 0xFF, 0xD9}
	jpegBadLen := cat(jpg[:2], []byte{0xFF, 0xE1, 0x00, 0x01}, jpg[2:])
	jpegLongSeg := cat(jpg[:2], []byte{0xFF, 0xFE, 0xFF, 0xFF, 'x'})

	long := bytes.Repeat([]byte("a"), 600)
	for _, tc := range []struct {
		desc, name, declared string
		data                 []byte
		want                 error
	}{
		{"png named .pdf", "scan.pdf", "", pngData, ErrMismatch},
		{"png declared pdf", "scan", "application/pdf", pngData, ErrMismatch},
		{"jpeg named .png", "photo.png", "", jpg, ErrMismatch},
		{"jpeg declared gif", "photo.jpg", "image/gif", jpg, ErrMismatch},
		{"text declared png", "note.txt", "image/png", []byte("hello\n"), ErrMismatch},
		{"text named .exe", "run.exe", "", []byte("hello\n"), ErrMismatch},
		{"text named .csv", "marks.csv", "", []byte("a,b\n"), ErrMismatch},
		{"random bytes as jpeg", "photo.jpg", "image/jpeg", random, ErrMismatch},
		{"random bytes named .png", "photo.png", "", random, ErrMismatch},
		{"random bytes", "blob", "", random, ErrType},
		{"unparseable declared type", "note.txt", "text/plain; ;;=", []byte("hello\n"), ErrMismatch},
		{"gif", "a.gif", "image/gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ErrType},
		{"html", "a", "", []byte("<!DOCTYPE html><script>alert(1)</script>"), ErrType},
		{"zip", "a", "", []byte("PK\x03\x04\x14\x00\x00\x00"), ErrType},
		{"empty", "a.txt", "", nil, ErrMismatch},
		{"empty unnamed", "", "", nil, ErrType},
		{"latin-1 text", "a.txt", "", []byte("caf\xe9\n"), ErrType},
		{"binary after sniff window", "a.txt", "", cat(long, []byte{0}), ErrType},
		{"terminal escape", "a.txt", "", []byte("hi \x1b[31mred\n"), ErrType},
		{"C1 control", "a.txt", "", []byte("hi \u009b31m\n"), ErrType},
		{"truncated jpeg", "a.jpg", "", jpg[:len(jpg)/2], ErrDamaged},
		{"jpeg without end", "a.jpg", "", jpg[:len(jpg)-2], ErrDamaged},
		{"jpeg without scan", "a.jpg", "", jpegNoScan, ErrDamaged},
		{"jpeg short segment length", "a.jpg", "", jpegBadLen, ErrDamaged},
		{"jpeg segment past end", "a.jpg", "", jpegLongSeg, ErrDamaged},
		{"bad png crc", "a.png", "", badCRC, ErrDamaged},
		{"truncated png", "a.png", "", pngData[:len(pngData)/2], ErrDamaged},
		{"png without IEND", "a.png", "", noIEND, ErrDamaged},
		{"png chunk before IHDR", "a.png", "", gAMAFirst, ErrDamaged},
		{"png unknown critical chunk", "a.png", "", critical, ErrDamaged},
		{"png chunk length past end", "a.png", "", hugeIDAT, ErrDamaged},
		{"png zero width", "a.png", "", badIHDR, ErrDamaged},
		{"png signature only", "a.png", "", pngData[:8], ErrDamaged},
		{"metadata png too large", "a.png", "", cat(spliced, make([]byte, MaxSize)), ErrTooLarge},
	} {
		f, err := Clean(tc.name, tc.declared, tc.data)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.desc, err, tc.want)
		}
		if f != nil {
			t.Errorf("%s: returned a file with an error", tc.desc)
		}
	}
}

func TestCleanNames(t *testing.T) {
	text := []byte("hello\n")
	for _, tc := range []struct{ in, want string }{
		{"../../etc/passwd", "passwd.txt"},
		{`C:\Users\kid\Desktop\what happened.TXT`, "what happened.txt"},
		{"note\u202Egnp.txt", "notegnp.txt"},
		{"a\x00b\nc\x1b.txt", "abc.txt"},
		{"", "attachment.txt"},
		{"....", "attachment.txt"},
		{".txt", "txt.txt"},
		{"CON.txt", "_CON.txt"},
		{"lpt1 .txt", "_lpt1.txt"},
		{"-rf.txt", "rf.txt"},
		{"notes.V2", "notes.V2.txt"},
		{"notes.verylongextension", "notes.verylongextension.txt"},
		{"фото отчёт.txt", "фото отчёт.txt"},
		{"a<b>:c|d?*\"'$`.txt", "a_b__c_d______.txt"},
		{"\xff\xfeab.txt", "ab.txt"},
		{"a\u00a0b.txt", "a b.txt"},
		{strings.Repeat("é", 100) + ".txt", strings.Repeat("é", 40) + ".txt"},
		{strings.Repeat("a", 79) + "é.txt", strings.Repeat("a", 79) + ".txt"},
		{"CON." + strings.Repeat("a", 90) + ".txt", "_CON." + strings.Repeat("a", 75) + ".txt"},
	} {
		f, err := Clean(tc.in, "", text)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if f.Name != tc.want {
			t.Errorf("%q: name = %q, want %q", tc.in, f.Name, tc.want)
		}
		if again, err := Clean(f.Name, "", text); err != nil || again.Name != f.Name {
			t.Errorf("%q: name not stable: %q -> %v %v", tc.in, f.Name, again, err)
		}
	}
}

func TestRead(t *testing.T) {
	data, err := Read(bytes.NewReader(make([]byte, MaxSize)))
	if err != nil || len(data) != MaxSize {
		t.Errorf("at the limit: %d bytes, %v", len(data), err)
	}
	if _, err := Read(bytes.NewReader(make([]byte, MaxSize+1))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
}

func TestExtension(t *testing.T) {
	for typ, want := range map[string]string{
		"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf", "text/plain": ".txt",
		"image/gif": "", "image/jpg": "", "": "", otherType: "",
	} {
		if got := Extension(typ); got != want {
			t.Errorf("Extension(%q) = %q, want %q", typ, got, want)
		}
	}
	// Every accepted type's own extension claims that type, and a file
	// named with it keeps the name.
	for _, k := range kinds {
		ext := Extension(k.mediaType)
		if extensionTypes[ext[1:]] != k.mediaType || typeAliases[k.mediaType] != k.mediaType {
			t.Errorf("%s: table is inconsistent", k.mediaType)
		}
	}
	f, err := Clean("photo", "", makePNG(t, 2, 2))
	if err != nil || f.Name != "photo"+Extension(f.Type) {
		t.Errorf("unnamed PNG: %+v, %v", f, err)
	}
}

// checkSafeName enforces what the team's tools rely on in a name.
func checkSafeName(t *testing.T, name, mediaType string) {
	t.Helper()
	if !utf8.ValidString(name) || len(name) > maxNameStem+1+8 {
		t.Fatalf("bad name %q", name)
	}
	if strings.ContainsAny(name, `/\:*?"<>|`) || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "-") || strings.HasPrefix(name, " ") {
		t.Fatalf("unsafe name %q", name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			t.Fatalf("control character in name %q", name)
		}
	}
	_, ext := splitName(name)
	if ext != strings.ToLower(ext) || extensionTypes[ext] != mediaType {
		t.Fatalf("name %q does not end in an extension for %s", name, mediaType)
	}
}

func FuzzClean(f *testing.F) {
	jpg, jpgPlain := jpegWithMetadata(f)
	pngData, pngPlain := pngWithMetadata(f)
	f.Add("photo.jpg", "image/jpeg", jpg)
	f.Add("IMG.JPEG", "", jpgPlain)
	f.Add("a.jpg", "", jpgPlain[:len(jpgPlain)/2])
	f.Add("shot.png", "image/png", pngData)
	f.Add("shot", "", pngPlain)
	f.Add("a.png", "", pngPlain[:40])
	f.Add("note.txt", "text/plain; charset=utf-8", []byte("hello\n"))
	f.Add("../x\u202E.pdf", "application/pdf", []byte("%PDF-1.4\n%%EOF\n"))
	f.Add("CON", "application/octet-stream", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 2, 0xFF, 0xD9})
	f.Fuzz(func(t *testing.T, name, declared string, data []byte) {
		in := bytes.Clone(data)
		f, err := Clean(name, declared, data)
		if !bytes.Equal(in, data) {
			t.Fatal("input modified")
		}
		if err != nil {
			if !errors.Is(err, ErrType) && !errors.Is(err, ErrMismatch) &&
				!errors.Is(err, ErrDamaged) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(f.Data) > len(data) {
			t.Fatalf("output longer than input: %d > %d", len(f.Data), len(data))
		}
		checkSafeName(t, f.Name, f.Type)
		if f.Cleaned != (f.Type == typeJPEG || f.Type == typePNG) {
			t.Fatalf("cleaned = %v for %s", f.Cleaned, f.Type)
		}
		if !f.Cleaned && !bytes.Equal(f.Data, data) {
			t.Fatal("uncleaned file changed")
		}
		f2, err := Clean(f.Name, f.Type, f.Data)
		if err != nil || !bytes.Equal(f2.Data, f.Data) || f2.Name != f.Name || f2.Type != f.Type || f2.Cleaned != f.Cleaned {
			t.Fatalf("not stable on its own output: %v %+v", err, f2)
		}
	})
}

func BenchmarkCleanJPEG(b *testing.B) {
	img := image.NewRGBA(image.Rect(0, 0, 1600, 1200))
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range img.Pix {
		img.Pix[i] = byte(rng.Uint32())
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		b.Fatal(err)
	}
	in := cat(buf.Bytes()[:2], jpegSegment(0xE1, cat([]byte("Exif\x00\x00"), tiffWithGPS())), buf.Bytes()[2:])
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Clean("a.jpg", "image/jpeg", in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCleanText(b *testing.B) {
	in := bytes.Repeat([]byte("Someone keeps sending me messages. Ça me fait peur.\n"), 100000)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Clean("a.txt", "text/plain", in); err != nil {
			b.Fatal(err)
		}
	}
}
