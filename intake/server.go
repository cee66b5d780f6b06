package intake

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/internal/alert"
	"github.com/hearken-project/hearken/internal/attach"
	"github.com/hearken-project/hearken/vault"
)

const (
	// maxBody caps every request body: five full attachments plus room for
	// the form fields (a 20,000-character message is up to 80 KB in UTF-8)
	// and multipart framing.
	maxBody = maxAttachments*attach.MaxSize + 256<<10
	// uploadMemory bounds the memory that submissions in progress may use,
	// all together, so a burst of large uploads waits or gets 503.
	uploadMemory = 640 << 20
	// memoryPerByte is how much memory one byte of body costs until it is
	// sealed: the upload, its cleaned copy, the base64 JSON while it grows,
	// and the ciphertext all live at once (measured: about 9 for five
	// 10 MiB photos).
	memoryPerByte = 9
	// uploadIdle is how long an upload may send nothing at all, and
	// minUploadRate the slowest average it may keep after that: Tor
	// uploads manage ten times this.
	uploadIdle    = 60 * time.Second
	minUploadRate = 1 << 10
	// queueWait is how long a submission waits for a slot or for upload
	// memory before it is told to come back later.
	queueWait = 3 * time.Second
)

// server is the public site. It is an http.Handler.
type server struct {
	cfg *config
	// teams are the routes' teams now; a reload replaces them.
	teams   *liveTeams
	store   *vault.Store
	log     zerolog.Logger
	langs   []*locale
	handler http.Handler

	mem   *budget      // upload bytes in memory, across requests
	slots *budget      // submissions being sealed and stored at once
	rate  *rateLimiter // submissions per minute, across all clients
	// queueWait is how long a submission waits for a slot or memory.
	queueWait time.Duration
	// uploadIdle and minUploadRate drop uploads that stall; see meteredBody.
	uploadIdle    time.Duration
	minUploadRate float64

	router *mux.Router
	// cop refuses form posts from other sites.
	cop *http.CrossOriginProtection

	receiptCache sync.Map // receiptKey -> []string, see receiptPage

	// alerts tells the team that something arrived; nil sends nothing.
	alerts *alert.Dispatcher
}

// newServer returns the public site for cfg, storing into store and
// sealing to the teams cfg was loaded with (serve shares its live teams
// instead). cfg must have passed validate and have its teams loaded.
func newServer(cfg *config, store *vault.Store, logger zerolog.Logger) *server {
	s := &server{
		cfg:   cfg,
		teams: newLiveTeams(newTeamSet(cfg.teamsByRoute())),
		store: store,
		log:   logger,
		mem:   newBudget(uploadMemory),
		slots: newBudget(int64(cfg.Limits.MaxConcurrentSubmissions)),
		rate:  newRateLimiter(cfg.Limits.SubmissionsPerMinute, nil),

		queueWait:     queueWait,
		uploadIdle:    uploadIdle,
		minUploadRate: minUploadRate,
	}
	for _, l := range cfg.Languages {
		s.langs = append(s.langs, locales[l])
	}

	s.cop = http.NewCrossOriginProtection()
	s.cop.SetDenyHandler(s.page(func(w http.ResponseWriter, r *http.Request, lang string) {
		s.renderError(w, lang, http.StatusForbidden, "")
	}))
	s.router = s.routes()
	s.handler = s.wrap(s.router)
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// admit applies the global limits to a submission as it arrives: the rate
// limit, and the upload memory budget, which its body reserves as it
// arrives (see meteredBody). It takes no sealing slot: an upload may take
// a slow reporter many minutes, and slow uploads must never hold up
// others, so a slot is taken with sealSlot only once the whole body is
// in. When admit returns false it has already answered 503 with
// Retry-After.
func (s *server) admit(w http.ResponseWriter, r *http.Request, lang string) (release func(), ok bool) {
	if ok, wait := s.rate.allow(); !ok {
		s.busy(w, lang, wait)
		return nil, false
	}
	start := time.Now()
	body := &meteredBody{
		ReadCloser: r.Body, ctx: r.Context(), rc: http.NewResponseController(w),
		mem: s.mem, wait: s.queueWait, idle: s.uploadIdle, minRate: s.minUploadRate,
		start: start, deadline: s.uploadDeadline(start, r.ContentLength),
	}
	r.Body = body
	return body.release, true
}

// uploadDeadline is when an upload that started at start, declaring
// declared bytes (-1 if unknown), must have arrived: the idle allowance
// plus the time its size takes at the slowest rate allowed, and never more
// than the server's read timeout.
func (s *server) uploadDeadline(start time.Time, declared int64) time.Time {
	if declared < 0 {
		return start.Add(readTimeout)
	}
	d := s.uploadIdle + time.Duration(float64(declared)/s.minUploadRate*float64(time.Second))
	return start.Add(min(d, readTimeout))
}

// sealSlot takes one of the slots that bound how many submissions are
// sealed and stored at once, waiting a little for one. When it returns
// false, the caller answers with busyRefusal.
func (s *server) sealSlot(r *http.Request) (release func(), ok bool) {
	ctx, cancel := context.WithTimeout(r.Context(), s.queueWait)
	defer cancel()
	return s.slots.acquire(ctx, 1)
}

// sealRetry is what Retry-After says when no sealing slot came free, and
// on any other 503 that set none (see retryAfterBusy).
const sealRetry = 10 * time.Second

// retryAfterBusy sets Retry-After to sealRetry on a 503 whose cause set
// none, such as the upload memory budget's, found while reading the form.
func retryAfterBusy(w http.ResponseWriter, status int) {
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(int(sealRetry/time.Second)))
	}
}

// fullRetry is what Retry-After says when the disk is full: long enough
// for someone to make room, short enough that a reporter comes back.
const fullRetry = 5 * time.Minute

// storeRefusal logs why the store could not take a submission and returns
// the refusal to answer it with. A full disk is the server being unable to
// take reports for now, not a fault: 503 with Retry-After, and the page
// says nothing was saved.
func (s *server) storeRefusal(w http.ResponseWriter, what string, err error) *formError {
	if errors.Is(err, vault.ErrFull) {
		s.log.Error().Err(err).Msg(what + ": the disk is full; make room in the data directory's file system")
		w.Header().Set("Retry-After", strconv.Itoa(int(fullRetry/time.Second)))
		return errStoreFull
	}
	s.log.Error().Err(err).Msg(what)
	return errStore
}

// busyRefusal sets Retry-After to wait and returns the refusal that says
// the site is busy.
func (s *server) busyRefusal(w http.ResponseWriter, wait time.Duration) *formError {
	secs := int((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return errBusy
}

// busy answers a submission refused before any of it was read.
func (s *server) busy(w http.ResponseWriter, lang string, wait time.Duration) {
	s.renderRefusal(w, lang, s.busyRefusal(w, wait))
}
