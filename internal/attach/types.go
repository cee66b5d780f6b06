package attach

import "strings"

// The accepted media types.
const (
	typeJPEG = "image/jpeg"
	typePNG  = "image/png"
	typePDF  = "application/pdf"
	typeText = "text/plain"
)

// kinds is the one table of what is accepted: each media type, the
// extensions that claim it, the first being the one its files are named
// with, and the other names browsers give the type.
var kinds = []struct {
	mediaType  string
	extensions []string
	aliases    []string
}{
	{typeJPEG, []string{"jpg", "jpeg", "jpe", "jfif"}, []string{"image/jpg", "image/pjpeg"}},
	{typePNG, []string{"png", "apng"}, []string{"image/x-png", "image/apng"}},
	{typePDF, []string{"pdf"}, []string{"application/x-pdf"}},
	{typeText, []string{"txt", "text"}, nil},
}

// otherExtensions are common extensions of types that are not accepted. A
// name ending in one claims a type the content cannot be, so a PNG named
// photo.heic or text named run.exe is a mismatch. Extensions in neither
// list are kept as part of the name.
var otherExtensions = strings.Fields(`
	gif webp heic heif avif bmp tif tiff svg svgz ico psd raw dng cr2 nef
	html htm xhtml xml js mjs css json csv md rtf eml
	doc docx docm xls xlsx xlsm ppt pptx odt ods odp pages
	zip rar 7z gz tar tgz bz2 xz
	exe msi dll com bat cmd scr ps1 vbs sh py jar apk app dmg iso lnk url desktop reg
	mp3 m4a wav ogg opus aac flac mp4 m4v mov avi mkv webm 3gp`)

// otherType is what extensionTypes says of an extension in otherExtensions.
const otherType = "other"

var (
	// extensionTypes maps a lowercase extension to the type it claims.
	extensionTypes = map[string]string{}
	// typeAliases maps what browsers send for an accepted type to the type.
	typeAliases = map[string]string{}
)

func init() {
	for _, k := range kinds {
		for _, e := range k.extensions {
			extensionTypes[e] = k.mediaType
		}
		typeAliases[k.mediaType] = k.mediaType
		for _, a := range k.aliases {
			typeAliases[a] = k.mediaType
		}
	}
	for _, e := range otherExtensions {
		extensionTypes[e] = otherType
	}
}

// Extension returns the extension, with its dot, that a file checked as
// mediaType (File.Type) is named with: ".jpg", ".png", ".pdf" or ".txt".
// It returns "" for a type that is not accepted.
func Extension(mediaType string) string {
	for _, k := range kinds {
		if k.mediaType == mediaType {
			return "." + k.extensions[0]
		}
	}
	return ""
}

func accepted(mediaType string) bool { return Extension(mediaType) != "" }

// Accept returns the accepted types and their extensions as the value of
// an HTML file input's accept attribute, so a browser's file picker offers
// only files that will be taken.
func Accept() string {
	var list []string
	for _, k := range kinds {
		list = append(list, k.mediaType)
		for _, e := range k.extensions {
			list = append(list, "."+e)
		}
	}
	return strings.Join(list, ",")
}
