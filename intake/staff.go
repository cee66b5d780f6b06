package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
	"github.com/rs/zerolog"
)

// The staff channel: team members' reviewer tools fetch sealed items, push
// sealed replies and acknowledge what they stored. Every request is signed
// (staff.Verifier); every refusal is the same 401 "unauthorized". It listens
// on a unix socket or loopback, never on the public listener.

const (
	// staffMaxReplyBody fits a sealed reply of vault.MaxReplySize in base64
	// plus the JSON around it.
	staffMaxReplyBody = vault.MaxReplySize/3*4 + 8<<10
	// staffMaxAckBody fits staff.MaxAcks quoted uuids.
	staffMaxAckBody = staff.MaxAcks*40 + 1<<10
	// staffMaxGetBody is what a GET may carry: nothing.
	staffMaxGetBody = 0
)

type staffHandler struct {
	store *vault.Store
	// teams are the teams now; verifier admits their members. A reload
	// replaces both (teamReload).
	teams    *liveTeams
	verifier *staff.Verifier
	log      zerolog.Logger
	refused  [staff.ReasonForbidden + 1]atomic.Uint64
	now      func() time.Time

	// resent is when each member (by key) last asked for everything again.
	resentMu sync.Mutex
	resent   map[string]time.Time
}

// resendEvery is how often a member may ask for everything again: each
// time rewrites every item record on their routes.
const resendEvery = 10 * time.Minute

// NewStaffHandler returns the staff channel's handler. teams maps each route
// name to its team; a member may use the routes whose team lists them.
//
// Serve it on its own listener (a unix socket of mode 0600, or loopback),
// never beside the public site, with net/http's ErrorLog discarded.
func NewStaffHandler(store *vault.Store, teams map[string]*vault.Team, log zerolog.Logger) http.Handler {
	return newStaffHandler(store, newLiveTeams(newTeamSet(teams)), log).routes()
}

func newStaffHandler(store *vault.Store, teams *liveTeams, log zerolog.Logger) *staffHandler {
	return &staffHandler{
		store:    store,
		teams:    teams,
		verifier: staff.NewVerifier(teams.load().byRoute, nil),
		log:      log,
		now:      time.Now,
		resent:   map[string]time.Time{},
	}
}

func (h *staffHandler) routes() http.Handler {
	r := mux.NewRouter()
	r.Handle(staff.ItemsPath, h.signed(staffMaxGetBody, h.items)).Methods(http.MethodGet)
	r.Handle(staff.RepliesPath, h.signed(staffMaxReplyBody, h.reply)).Methods(http.MethodPost)
	r.Handle(staff.AcksPath, h.signed(staffMaxAckBody, h.acks)).Methods(http.MethodPost)
	r.Handle(staff.ResendPath, h.signed(staffMaxGetBody, h.resend)).Methods(http.MethodPost)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		staffError(w, http.StatusNotFound, "no such staff endpoint")
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		staffError(w, http.StatusMethodNotAllowed, "method not allowed")
	})
	return r
}

type staffFunc func(w http.ResponseWriter, r *http.Request, m *staff.Member, body []byte)

// signed reads the body through a limit, verifies the signature over it and
// only then runs next.
func (h *staffHandler) signed(maxBody int64, next staffFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				// Refused before any signature check: say no more than 401 would.
				h.refuse(w, r, staff.ReasonMalformed)
				return
			}
			staffError(w, http.StatusBadRequest, "could not read the request")
			return
		}
		m, err := h.verifier.Verify(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get, body)
		if err != nil {
			h.refuse(w, r, staff.UnauthorizedReason(err))
			return
		}
		next(w, r, m, body)
	})
}

// refuse answers the one generic 401 and counts the reason. The log line
// names the route pattern and the reason only.
func (h *staffHandler) refuse(w http.ResponseWriter, r *http.Request, reason staff.Reason) {
	n := uint64(0)
	if int(reason) < len(h.refused) {
		n = h.refused[reason].Add(1)
	}
	h.log.Warn().Str("route", routePattern(r)).Str("reason", reason.String()).
		Uint64("count", n).Msg("staff request refused")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	io.WriteString(w, "unauthorized")
}

// memberKeys lists the signing keys of a route's current team, as
// acknowledgements record them.
func (h *staffHandler) memberKeys(route string) []string { return h.teams.load().keys(route) }

// teamKeys returns, for each route of teams, the signing keys of its
// members, as acknowledgements record them.
func teamKeys(teams map[string]*vault.Team) func(route string) []string {
	return func(route string) []string {
		t := teams[route]
		if t == nil {
			return nil
		}
		keys := make([]string, len(t.Members))
		for i, m := range t.Members {
			keys[i] = vault.FormatSigningKey(m.SignKey)
		}
		return keys
	}
}

func routePattern(r *http.Request) string {
	if t := routeTemplate(r); t != "" {
		return t
	}
	return "unknown"
}

func staffError(w http.ResponseWriter, code int, msg string) {
	staffJSON(w, code, staff.ErrorResponse{Error: msg})
}

func staffJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"error":"internal error"}`)
	}
	writeJSON(w, code, append(b, '\n'))
}

func writeJSON(w http.ResponseWriter, code int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	w.Write(b)
}

func (h *staffHandler) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, vault.ErrFull) {
		h.log.Error().Str("route", routePattern(r)).Str("op", what).Msg("staff request failed: the disk is full; make room in the data directory's file system")
		w.Header().Set("Retry-After", strconv.Itoa(int(fullRetry/time.Second)))
		staffError(w, http.StatusServiceUnavailable, "the server's disk is full; try again later")
		return
	}
	// Vault errors carry no report data, but log only their class.
	h.log.Error().Str("route", routePattern(r)).Str("op", what).
		Bool("corrupt", errors.Is(err, vault.ErrCorrupt)).Msg("staff request failed")
	staffError(w, http.StatusInternalServerError, "the server could not complete this request; try again later")
}

// items serves GET /staff/v1/items?limit=N&cursor=C.
func (h *staffHandler) items(w http.ResponseWriter, r *http.Request, m *staff.Member, _ []byte) {
	q := r.URL.Query()
	limit := staff.MaxItems
	if q.Has("after") {
		// The reviewer of before queues per route paged by a position the
		// server no longer shows.
		staffError(w, http.StatusBadRequest, "this reviewer is older than the server: update reviewer, then sync again")
		return
	}
	cursor := q.Get("cursor")
	if len(cursor) > staff.MaxCursor {
		staffError(w, http.StatusBadRequest, "the page cursor is not valid: sync again from the beginning")
		return
	}
	if s := q.Get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			staffError(w, http.StatusBadRequest, "limit must be a positive number")
			return
		}
		limit = min(v, staff.MaxItems)
	}
	if len(m.Routes) == 0 {
		staffJSON(w, http.StatusOK, staff.ItemsResponse{Items: []staff.Item{}})
		return
	}
	items, next, err := h.store.Pending(cursor, limit, m.Routes, m.Key)
	if errors.Is(err, vault.ErrBadCursor) {
		staffError(w, http.StatusBadRequest, "the page cursor is not valid: sync again from the beginning")
		return
	}
	if err != nil {
		h.internal(w, r, "pending", err)
		return
	}
	resp := staff.ItemsResponse{Items: make([]staff.Item, 0, len(items)), Undeliverable: h.store.QueueBlocked(m.Routes)}
	// The store cut the page at staff.MaxBatchBytes (vault.MaxPageBytes),
	// and next is after its last item.
	for _, it := range items {
		resp.Items = append(resp.Items, staff.ItemOf(it))
	}
	// A short page may still have been cut by the byte limit, so only an
	// empty page is certainly the end.
	resp.More, resp.Next = len(resp.Items) > 0, next
	writeJSON(w, http.StatusOK, append(resp.AppendJSON(nil), '\n'))
}

// reply serves POST /staff/v1/replies.
func (h *staffHandler) reply(w http.ResponseWriter, r *http.Request, m *staff.Member, body []byte) {
	var req staff.ReplyRequest
	if err := strictJSON(body, &req); err != nil {
		staffError(w, http.StatusBadRequest, "the reply is not valid JSON of the expected shape")
		return
	}
	if !vault.ValidID(req.Thread) || !vault.ValidID(req.ID) {
		staffError(w, http.StatusBadRequest, "thread and id must be uuids")
		return
	}
	if len(req.Sealed) == 0 {
		staffError(w, http.StatusBadRequest, "the reply is empty")
		return
	}
	if len(req.Sealed) > vault.MaxReplySize {
		staffError(w, http.StatusRequestEntityTooLarge, "the reply is too large")
		return
	}
	// A thread on a route outside the member's teams answers like one that
	// does not exist.
	route, err := h.store.ThreadRoute(req.Thread)
	if err == nil && !m.InRoute(route) {
		err = vault.ErrNotFound
	}
	if err == nil {
		var it vault.Item
		it, err = h.store.AddReply(req.Thread, req.ID, req.Sealed)
		if err == nil {
			staffJSON(w, http.StatusOK, staff.ReplyResponse{Item: staff.ItemOf(it)})
			return
		}
	}
	switch {
	case errors.Is(err, vault.ErrNotFound):
		staffError(w, http.StatusNotFound, "this conversation no longer exists on the server")
		return
	case errors.Is(err, vault.ErrTooLarge):
		staffError(w, http.StatusRequestEntityTooLarge, "the reply is too large")
		return
	case errors.Is(err, vault.ErrMalformed):
		staffError(w, http.StatusBadRequest, "the reply is not a sealed age file")
		return
	case errors.Is(err, vault.ErrItemIDUsed):
		staffError(w, http.StatusConflict, "this reply id is already used by another conversation")
		return
	default:
		h.internal(w, r, "reply", err)
	}
}

// acks serves POST /staff/v1/acks. An item leaves the queue once every
// current member of its route's team has it. All the acknowledgements in
// one request share one commit.
func (h *staffHandler) acks(w http.ResponseWriter, r *http.Request, m *staff.Member, body []byte) {
	var req staff.AckRequest
	if err := strictJSON(body, &req); err != nil {
		staffError(w, http.StatusBadRequest, "the acknowledgement is not valid JSON of the expected shape")
		return
	}
	if len(req.IDs) > staff.MaxAcks {
		staffError(w, http.StatusBadRequest, "at most 500 ids in one acknowledgement")
		return
	}
	for _, id := range req.IDs {
		if !vault.ValidID(id) {
			staffError(w, http.StatusBadRequest, "ids must be uuids")
			return
		}
	}
	errs, err := h.store.AckMany(req.IDs, m.Key, m.Routes, h.memberKeys)
	if err != nil {
		h.internal(w, r, "ack", err)
		return
	}
	resp := staff.AckResponse{}
	for i, err := range errs {
		switch {
		case errors.Is(err, vault.ErrNotFound):
			// Gone from the store, or never in this member's routes: there
			// is nothing for this member to acknowledge.
			resp.Unknown = append(resp.Unknown, req.IDs[i])
		case err != nil:
			h.internal(w, r, "ack", err)
			return
		default:
			resp.Acked++
		}
	}
	staffJSON(w, http.StatusOK, resp)
}

// resend serves POST /staff/v1/resend: the member's computer was lost or
// replaced, and they want every item the server still holds on their
// routes again. It is logged as what it is, with no member and no count.
func (h *staffHandler) resend(w http.ResponseWriter, r *http.Request, m *staff.Member, _ []byte) {
	h.resentMu.Lock()
	last, ok := h.resent[m.Key]
	now := h.now()
	wait := last.Add(resendEvery).Sub(now)
	if ok && wait > 0 {
		h.resentMu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		staffError(w, http.StatusTooManyRequests, "you asked for everything again a few minutes ago; the next sync fetches it")
		return
	}
	h.resent[m.Key] = now
	h.resentMu.Unlock()
	if len(m.Routes) == 0 {
		staffJSON(w, http.StatusOK, staff.ResendResponse{})
		return
	}
	n, err := h.store.Resend(m.Key, m.Routes)
	if err != nil {
		h.resentMu.Lock()
		delete(h.resent, m.Key)
		h.resentMu.Unlock()
		h.internal(w, r, "resend", err)
		return
	}
	h.log.Info().Str("route", routePattern(r)).Msg("a team member asked for every item again")
	staffJSON(w, http.StatusOK, staff.ResendResponse{Items: n})
}

// strictJSON decodes exactly one JSON value with no unknown fields.
func strictJSON(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data")
	}
	return nil
}
