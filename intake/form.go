package intake

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/hearken-project/hearken/internal/attach"
	"github.com/hearken-project/hearken/vault"
)

const (
	// maxAttachments bounds the files in one report or follow-up.
	maxAttachments = 5
	// maxMessageChars bounds the main message, in characters.
	maxMessageChars = 20000
	// maxFieldChars bounds every other text field, in characters.
	maxFieldChars = 2000
	// maxParts bounds the number of parts in one multipart form.
	maxParts = 32
	// maxURLEncoded bounds a form sent without files.
	maxURLEncoded = 256 << 10
	// maxCheckBody bounds the check form: a code of 29 characters, as
	// url-encoded text. It is all /check takes, so checking a code costs
	// the server a few KiB whatever a client sends.
	maxCheckBody = 4 << 10
	// maxPartHeader bounds what multipart.Reader may read while it finds
	// the next part: the boundary line and the part's header, which a
	// browser keeps under a few hundred bytes. mime/multipart itself
	// allows a 10 MiB header, read into memory whole (a constant in Go
	// 1.26; GODEBUG=multipartmaxheaders bounds only the number of header
	// lines), so without this bound a few hundred slow requests could
	// hold gigabytes.
	maxPartHeader = 8 << 10
)

// formError is a submission the site refuses, with the status and the
// translated message to show.
type formError struct {
	status int
	key    string // the error page's message
	// again is the message on the form shown again with the reporter's
	// words ("" if it never is); fix is set when they can put it right
	// (a file, their message, a choice), and field names the form field
	// the problem is about, to say it there too.
	again string
	fix   bool
	field string
}

func (e *formError) Error() string { return e.key }

var (
	errBadForm     = &formError{status: http.StatusBadRequest, key: "err_400"}
	errTooBig      = &formError{status: http.StatusRequestEntityTooLarge, key: "err_413", again: "again_too_big"}
	errFieldBig    = &formError{status: http.StatusRequestEntityTooLarge, key: "err_413"}
	errMediaType   = &formError{status: http.StatusUnsupportedMediaType, key: "err_415"}
	errBadText     = &formError{status: http.StatusBadRequest, key: "err_bad_text"}
	errNoMessage   = &formError{status: http.StatusBadRequest, key: "err_message_missing", again: "again_message_missing", fix: true, field: "message"}
	errLongMessage = &formError{status: http.StatusBadRequest, key: "err_message_long", again: "again_message_long", fix: true, field: "message"}
	errBadChoice   = &formError{status: http.StatusBadRequest, key: "err_bad_choice", again: "again_choice", fix: true}
	errManyFiles   = &formError{status: http.StatusBadRequest, key: "err_too_many_files", again: "again_too_many_files", fix: true, field: "file"}
	errFileBig     = &formError{status: http.StatusRequestEntityTooLarge, key: "err_file_big", again: "again_file_big", fix: true, field: "file"}
	errFileType    = &formError{status: http.StatusUnsupportedMediaType, key: "err_file_type", again: "again_file_type", fix: true, field: "file"}
	errFileWrong   = &formError{status: http.StatusBadRequest, key: "err_file_mismatch", again: "again_file_mismatch", fix: true, field: "file"}
	errFileBroken  = &formError{status: http.StatusBadRequest, key: "err_file_damaged", again: "again_file_damaged", fix: true, field: "file"}
	errHoneypot    = &formError{status: http.StatusBadRequest, key: "err_honeypot"}
	errBusy        = &formError{status: http.StatusServiceUnavailable, key: "err_503", again: "again_busy"}
	errSlow        = &formError{status: http.StatusRequestTimeout, key: "err_408", again: "again_slow"}
	errStoreFull   = &formError{status: http.StatusServiceUnavailable, key: "err_503_full", again: "again_full"}
	errStore       = &formError{status: http.StatusInternalServerError, key: "err_500", again: "again_500"}
)

// submission is a parsed form, held in memory only. A form refused part
// way holds what was read before the refusal: the text fields read whole,
// which may be shown back to the reporter in the answer to the same
// request, and nowhere else.
type submission struct {
	fields map[string]string
	files  []vault.Attachment
	// sentFiles counts the files sent, kept or not.
	sentFiles int
	// problem is the first thing wrong that the reporter can put right. The
	// rest of the form is still read, files thrown away, so that every
	// word can be shown back to them.
	problem *formError
	// complete is set once the whole form has been read.
	complete bool
	// meter is the body's meter, told when bytes are thrown away; nil if
	// the body is not metered.
	meter *meteredBody
}

// fieldLimits names the text fields a form may carry and their size in
// characters. Anything else is refused.
var fieldLimits = map[string]int{
	"message":    maxMessageChars,
	"about":      maxFieldChars,
	"danger":     16,
	"when_where": maxFieldChars,
	"role":       16,
	"contact":    maxFieldChars,
	"route":      64,
	"website":    maxFieldChars,
	"receipt":    128,
}

// parseForm reads a form from r without ever touching disk: multipart is
// streamed part by part, each part read through a limit into memory.
// Files are checked and cleaned by package attach as they arrive.
func parseForm(r *http.Request) (*submission, *formError) {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, errMediaType
	}
	switch mt {
	case "multipart/form-data":
		boundary := params["boundary"]
		if boundary == "" {
			return nil, errBadForm
		}
		hb := &headerBudget{r: r.Body}
		sub := newSubmission()
		sub.meter, _ = r.Body.(*meteredBody)
		return sub.readMultipart(multipart.NewReader(hb, boundary), hb)
	case "application/x-www-form-urlencoded":
		return parseURLEncoded(r.Body, maxURLEncoded)
	default:
		return nil, errMediaType
	}
}

// parseCheckForm reads the check form: a small url-encoded body only.
func parseCheckForm(r *http.Request) (*submission, *formError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, errMediaType
	}
	return parseURLEncoded(r.Body, maxCheckBody)
}

func newSubmission() *submission { return &submission{fields: map[string]string{}} }

// parseURLEncoded reads a form without files. Only a message too long is
// a problem the reader can put right; anything else refuses the form whole.
func parseURLEncoded(body io.Reader, limit int) (*submission, *formError) {
	data, err := io.ReadAll(io.LimitReader(body, int64(limit)+1))
	if err != nil {
		return nil, readError(err)
	}
	if len(data) > limit {
		return nil, errTooBig
	}
	vals, err := url.ParseQuery(string(data))
	if err != nil {
		return nil, errBadForm
	}
	sub := newSubmission()
	for name, vs := range vals {
		if len(vs) != 1 {
			return nil, errBadForm
		}
		if ferr := sub.setField(name, vs[0]); ferr != nil {
			if !ferr.fix {
				return nil, ferr
			}
			sub.problem = ferr
		}
	}
	sub.complete = true
	return sub, sub.problem
}

// readMultipart reads the parts in the order they come, which is the
// form's order in a browser. After a problem the reporter can fix, it
// reads on to the end, throwing files away, so that every field can be
// shown back to them; any other refusal stops reading at once, and the
// fields read whole until then are all the submission holds.
func (sub *submission) readMultipart(mr *multipart.Reader, hb *headerBudget) (*submission, *formError) {
	for n := 0; ; n++ {
		hb.limit(maxPartHeader)
		part, err := mr.NextPart()
		hb.limit(-1)
		if err == io.EOF {
			sub.complete = true
			return sub, sub.problem
		}
		if err != nil {
			return sub, readError(err)
		}
		if n >= maxParts {
			return sub, errBadForm
		}
		ferr := sub.readPart(part)
		if ferr != nil && !ferr.fix {
			return sub, ferr
		}
		// What is left of a part, such as the rest of a file too big, is
		// thrown away.
		sub.discard(part)
		if ferr != nil && sub.problem == nil {
			sub.problem = ferr
			sub.files = nil // not sent now, so not held
		}
	}
}

func (sub *submission) readPart(part *multipart.Part) *formError {
	name := part.FormName()
	if name == "file" {
		if sub.problem != nil {
			// This submission will not be sent: its files are counted,
			// never held.
			if sub.discard(part) > 0 || part.FileName() != "" {
				sub.sentFiles++
			}
			return nil
		}
		data, err := attach.Read(part)
		switch {
		case errors.Is(err, attach.ErrTooLarge):
			sub.sentFiles++
			return errFileBig
		case err != nil:
			return readError(err)
		}
		fileName := part.FileName()
		if fileName == "" && len(data) == 0 {
			return nil // the empty part a browser sends when no file was chosen
		}
		sub.sentFiles++
		if sub.sentFiles > maxAttachments {
			return errManyFiles
		}
		f, err := attach.Clean(fileName, part.Header.Get("Content-Type"), data)
		switch {
		case errors.Is(err, attach.ErrType):
			return errFileType
		case errors.Is(err, attach.ErrMismatch):
			return errFileWrong
		case err != nil:
			return errFileBroken
		}
		// The reporter's file name is not kept: names like
		// IMG_20250310_142233.jpg or "Jane Smith homework.pdf" carry the
		// very times and names the cleaning removes from inside the file.
		name := fmt.Sprintf("attachment-%d%s", len(sub.files)+1, attach.Extension(f.Type))
		sub.files = append(sub.files, vault.Attachment{Name: name, Type: f.Type, Cleaned: f.Cleaned, Data: f.Data})
		return nil
	}
	if part.FileName() != "" {
		return errBadForm
	}
	limit, ok := fieldLimits[name]
	if !ok {
		return errBadForm
	}
	// UTF-8 takes at most 4 bytes a character.
	data, err := io.ReadAll(io.LimitReader(part, int64(limit)*4+1))
	if err != nil {
		return readError(err)
	}
	if len(data) > limit*4 {
		// Too long to hold: it is not kept, so it cannot be shown back,
		// and the error page answers. A browser's maxlength keeps every
		// field well under this.
		if name == "message" {
			return errLongMessage
		}
		return errFieldBig
	}
	return sub.setField(name, string(data))
}

// discard reads what is left of r and throws it away, telling the body's
// meter, so that the bytes reserve no memory. It returns how many bytes
// there were.
func (sub *submission) discard(r io.Reader) int64 {
	if sub.meter != nil {
		sub.meter.discarding = true
		defer func() { sub.meter.discarding = false }()
	}
	n, _ := io.Copy(io.Discard, r)
	return n
}

func (sub *submission) setField(name, value string) *formError {
	limit, ok := fieldLimits[name]
	if !ok {
		return errBadForm
	}
	if _, dup := sub.fields[name]; dup {
		return errBadForm
	}
	if !utf8.ValidString(value) {
		return errBadText
	}
	// Browsers send line breaks as CRLF; count and keep them as one.
	value = strings.ReplaceAll(value, "\r\n", "\n")
	if utf8.RuneCountInString(value) > limit {
		if name == "message" {
			// Kept (it is at most four bytes a character over the limit),
			// so the reporter gets it back to shorten.
			sub.fields[name] = value
			return errLongMessage
		}
		return errBadForm
	}
	sub.fields[name] = value
	return nil
}

var errPartHeader = errors.New("multipart part header too large")

// headerBudget passes a multipart body through, and while a limit is set,
// refuses to read more than that many bytes. parseMultipart sets it around
// each NextPart, which reads the boundary and the part's header: whatever
// bufio.Reader had read ahead of the header is at most its 4 KiB buffer.
type headerBudget struct {
	r    io.Reader
	left int64 // < 0: no limit
}

func (h *headerBudget) limit(n int64) { h.left = n }

func (h *headerBudget) Read(p []byte) (int, error) {
	if h.left == 0 {
		return 0, errPartHeader
	}
	if h.left > 0 && int64(len(p)) > h.left {
		p = p[:h.left]
	}
	n, err := h.r.Read(p)
	if h.left > 0 {
		h.left -= int64(n)
	}
	return n, err
}

// readError maps a failed body read to a status: over the size cap is 413,
// anything else is a malformed request.
func readError(err error) *formError {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return errTooBig
	case errors.Is(err, errUploadBusy):
		return errBusy
	case errors.Is(err, errUploadSlow):
		return errSlow
	case errors.Is(err, errPartHeader):
		return errTooBig
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errSlow
	}
	return errBadForm
}

// fileAccept is the file inputs' accept attribute: the picker offers only
// what package attach accepts.
var fileAccept = attach.Accept()
