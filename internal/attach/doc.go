// Package attach checks the files a reporter attaches to a report and
// removes the metadata that could identify them, before anything is sealed.
//
// [Clean] takes one uploaded file, whole, in memory (read it with [Read],
// which stops at [MaxSize]) and returns a [File]: what may be sealed, the
// media type it was checked as, and whether it was cleaned.
//
// # What is accepted
//
// JPEG and PNG images, PDF documents and UTF-8 plain text, and nothing
// else. The type is taken from the content, never from the client: the
// content's magic number and net/http's sniffer must agree, and the part's
// Content-Type and the file name's extension, where they name a type, must
// name the same one ([ErrMismatch] otherwise, so a PNG named report.pdf or
// text named run.exe is refused). Text must be UTF-8 throughout, without
// control characters that could drive a terminal or hide content.
//
// One table lists the accepted types, the extensions that claim each and
// the extension a file of that type is named with; [Extension] reads it.
//
// # What is cleaned
//
//   - JPEG: only what decoding needs is kept, plus the JFIF header (without
//     its thumbnail), the Adobe colour flag and a generic ICC colour
//     profile. EXIF (with any GPS position, camera serial number, times and
//     embedded thumbnails), XMP, IPTC, comments, every other APPn segment
//     and any data after the end of the image are removed.
//   - PNG: only the chunks decoding and colour need are kept, and a generic
//     ICC profile (iCCP, under a fixed name). Text chunks (tEXt, zTXt,
//     iTXt, which hold XMP), eXIf, tIME, private and unknown chunks and any
//     data after IEND are removed.
//   - ICC colour profiles: a profile can name the device's maker and model,
//     the day it was made and free text, so only well-known generic
//     profiles, matched by their SHA-256 (genericProfiles), are kept; every
//     other profile is removed and the picture is shown as sRGB.
//
// Images are not re-encoded: the picture data is copied untouched, so the
// pixels are exactly what was sent. Damaged images are refused
// ([ErrDamaged]) rather than passed on half-cleaned.
//
// # What is not cleaned
//
//   - PDF documents are kept exactly as sent. A PDF can carry an author's
//     name, the software and account that made it, dates, and photos with
//     their own EXIF. File.Cleaned is false, so the team is told, and the
//     public site warns reporters before they attach one.
//   - Text files are kept as sent: they hold what the reporter wrote.
//   - What an image shows: faces, uniforms, a window's view, a reflection,
//     a name on a screen. Nothing here can see that.
//   - Anything hidden in the picture data itself (a watermark, a printer's
//     tracking dots): copying the data untouched keeps it too.
//
// # File names
//
// The client's file name is never trusted. Clean reduces it to a safe base
// name (File.Name) ending in an extension that fits the content, for
// callers that keep names. The public site does not: a name like
// IMG_20250310_142233.jpg carries the very time the cleaning removes, so it
// names files attachment-N plus [Extension] of the checked type.
package attach
