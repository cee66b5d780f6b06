package main

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hearken-project/hearken/intake"
	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
	"github.com/rs/zerolog"
)

// staffServer is a real vault store behind the real staff handler, on
// loopback, with a switch that cuts connections on chosen requests.
type staffServer struct {
	store    *vault.Store
	teams    map[string]*vault.Team
	srv      *httptest.Server
	receipts []vault.Receipt

	mu   sync.Mutex
	h    http.Handler
	cuts map[string][]cutMode // "GET /staff/v1/items" -> what to do on the next requests
	seen map[string]int
}

type cutMode int

const (
	pass        cutMode = iota
	cutResponse         // handle the request, send half the response, then drop
	cutAfter            // handle the request, then drop without any response
)

func newStaffServer(t testing.TB, dir string, teams map[string]*vault.Team) *staffServer {
	t.Helper()
	st, err := vault.OpenStore(filepath.Join(dir, "hearken.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &staffServer{store: st, teams: teams, cuts: map[string][]cutMode{}, seen: map[string]int{}}
	s.h = intake.NewStaffHandler(st, teams, zerolog.Nop())
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		s.mu.Lock()
		mode := pass
		if q := s.cuts[key]; len(q) > 0 {
			mode, s.cuts[key] = q[0], q[1:]
		}
		s.seen[key]++
		h := s.h
		s.mu.Unlock()
		if mode == pass {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		if mode == cutResponse {
			body := rec.Body.Bytes()
			writeHead(buf, rec, len(body))
			buf.Write(body[:len(body)/2])
			buf.Flush()
		}
	}))
	t.Cleanup(func() {
		s.srv.Close()
		st.Close()
	})
	return s
}

func writeHead(w *bufio.ReadWriter, rec *httptest.ResponseRecorder, n int) {
	io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
	io.WriteString(w, "Content-Length: "+itoa(n)+"\r\n\r\n")
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// restart serves the same store with new team files, as an intake
// server restarted after its config changed.
func (s *staffServer) restart(teams map[string]*vault.Team) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.teams = teams
	s.h = intake.NewStaffHandler(s.store, teams, zerolog.Nop())
}

func (s *staffServer) cut(method, path string, modes ...cutMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cuts[method+" "+path] = append(s.cuts[method+" "+path], modes...)
}

func (s *staffServer) report(t testing.TB, route, message string) {
	t.Helper()
	e := &vault.Envelope{Fields: []vault.Field{{Name: "message", Value: message}, {Name: "danger", Value: "no"}}}
	r, err := s.store.CreateThread(route, e, s.teams[route].Recipients())
	if err != nil {
		t.Fatal(err)
	}
	s.receipts = append(s.receipts, r)
}

// caseOf returns the case number of report i (from 0), as every reviewer
// numbers it.
func (s *staffServer) caseOf(t testing.TB, i int) uint64 {
	t.Helper()
	ti, err := s.store.Thread(s.receipts[i])
	if err != nil {
		t.Fatal(err)
	}
	n, err := cases.NumberOf(ti.ID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func parseTeam(t testing.TB, ms ...*vault.Member) *vault.Team {
	t.Helper()
	var lines []string
	for _, m := range ms {
		lines = append(lines, m.TeamLine())
	}
	team, err := vault.ParseTeam(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	return team
}
