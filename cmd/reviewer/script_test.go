package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hearken-project/hearken/intake"
	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/reviewer"
	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rs/zerolog"
)

func TestMain(m *testing.M) {
	testkit.Main(m, map[string]func() int{
		"reviewer": func() int { return reviewer.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr) },
	})
}

// scriptServer is the intake side of a script: a real vault store and the
// real staff handler on loopback.
type scriptServer struct {
	mu       sync.Mutex
	store    *vault.Store
	teams    map[string]*vault.Team
	srv      *httptest.Server
	receipts []vault.Receipt
	tamper   bool
	h        http.Handler // the staff handler, for the teams of the moment
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: false,
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			env.Values["staffd"] = &scriptServer{}
			// An identity file and its member.pub made before onion keys
			// existed (passphrase "correct horse battery staple").
			for from, to := range map[string]string{"v1-no-onion.identity": "old.identity", "v1-no-onion.pub": "old.pub"} {
				b, err := os.ReadFile(filepath.Join("..", "..", "vault", "testdata", from))
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(env.WorkDir, to), b, 0o600); err != nil {
					return err
				}
			}
			return nil
		},
		Cmds: testkit.Cmds(map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"staffd": cmdStaffd,
		}),
	})
}

// cmdStaffd drives the server side:
//
//	staffd start ROUTE TEAMFILE...  open a vault store, serve the staff channel, set $SERVER
//	staffd report [-danger ANSWER] [-lang LANG] [-attach 'NAME|TYPE'] ROUTE TEXT...
//	                              a reporter sends a report (danger "no", language "en"
//	                              unless given), as the public site seals it; -attach
//	                              adds a file named and typed as given, as a forger could;
//	                              $CASEn is set to the case number of the nth report
//	staffd followup N TEXT...     reporter N adds a message
//	staffd replies N              print what reporter N sees (one reply a line)
//	staffd queue                  print how many items wait in the staff queue
//	staffd teams ROUTE TEAMFILE...  serve with these team files from now on, as after a reload
//	staffd tamper                 change one byte of each item in the next items page
func cmdStaffd(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! staffd")
	}
	s := ts.Value("staffd").(*scriptServer)
	if len(args) == 0 {
		ts.Fatalf("usage: staffd start|report|followup|replies|queue|tamper")
	}
	switch args[0] {
	case "start":
		if len(args) < 3 || len(args)%2 != 1 {
			ts.Fatalf("usage: staffd start ROUTE TEAMFILE [ROUTE TEAMFILE...]")
		}
		teams := map[string]*vault.Team{}
		for i := 1; i < len(args); i += 2 {
			team, err := vault.LoadTeam(ts.MkAbs(args[i+1]))
			ts.Check(err)
			teams[args[i]] = team
		}
		st, err := vault.OpenStore(ts.MkAbs("server.db"), nil)
		ts.Check(err)
		s.store, s.teams = st, teams
		s.h = intake.NewStaffHandler(st, s.teams, zerolog.Nop())
		s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			tamper := s.tamper && r.URL.Path == staff.ItemsPath
			s.tamper = s.tamper && !tamper
			h := s.h
			s.mu.Unlock()
			if !tamper {
				h.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			var page staff.ItemsResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
				http.Error(w, "bad page", 500)
				return
			}
			for i := range page.Items {
				page.Items[i].Sealed[len(page.Items[i].Sealed)-30] ^= 0x01
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(page)
		}))
		ts.Defer(func() {
			s.srv.Close()
			st.Close()
		})
		ts.Setenv("SERVER", s.srv.URL)
	case "report":
		danger, lang := "no", "en"
		var files []vault.Attachment
		args = args[1:]
		for len(args) > 1 && strings.HasPrefix(args[0], "-") {
			switch args[0] {
			case "-danger":
				danger = args[1]
			case "-lang":
				lang = args[1]
			case "-attach":
				name, typ, _ := strings.Cut(args[1], "|")
				files = append(files, vault.Attachment{Name: name, Type: typ, Data: []byte("forged content\n")})
			default:
				ts.Fatalf("unknown staffd report option %q", args[0])
			}
			args = args[2:]
		}
		if len(args) < 2 {
			ts.Fatalf("usage: staffd report [-danger ANSWER] [-lang LANG] ROUTE TEXT...")
		}
		e := &vault.Envelope{Fields: []vault.Field{
			{Name: "message", Value: strings.Join(args[1:], " ")},
			{Name: "danger", Value: danger},
			{Name: "language", Value: lang},
		}, Attachments: files}
		r, err := s.store.CreateThread(args[0], e, s.teams[args[0]].Recipients())
		ts.Check(err)
		s.receipts = append(s.receipts, r)
		// $CASEn is the case number of report n, as every reviewer shows it.
		ti, err := s.store.Thread(r)
		ts.Check(err)
		n, err := cases.NumberOf(ti.ID)
		ts.Check(err)
		ts.Setenv(fmt.Sprintf("CASE%d", len(s.receipts)), cases.CaseNumber(n))
	case "followup":
		if len(args) < 3 {
			ts.Fatalf("usage: staffd followup N TEXT...")
		}
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		if n < 1 || n > len(s.receipts) {
			ts.Fatalf("no report %d", n)
		}
		info, err := s.store.Thread(s.receipts[n-1])
		ts.Check(err)
		e := &vault.Envelope{Fields: []vault.Field{{Name: "message", Value: strings.Join(args[2:], " ")}, {Name: "language", Value: "en"}}}
		ts.Check(s.store.FollowUp(s.receipts[n-1], e, s.teams[info.Route].Recipients()))
	case "replies":
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		if n < 1 || n > len(s.receipts) {
			ts.Fatalf("no report %d", n)
		}
		replies, _, err := s.store.Replies(s.receipts[n-1])
		ts.Check(err)
		fmt.Fprintf(ts.Stdout(), "%d replies\n", len(replies))
		for _, e := range replies {
			fmt.Fprintf(ts.Stdout(), "%s: %s\n", e.Author, e.Field("message"))
		}
	case "queue":
		items, _, err := s.store.Pending("", 100000, nil, "")
		ts.Check(err)
		fmt.Fprintf(ts.Stdout(), "%d\n", len(items))
	case "teams":
		if len(args) < 3 || len(args)%2 != 1 {
			ts.Fatalf("usage: staffd teams ROUTE TEAMFILE [ROUTE TEAMFILE...]")
		}
		teams := map[string]*vault.Team{}
		for i := 1; i < len(args); i += 2 {
			team, err := vault.LoadTeam(ts.MkAbs(args[i+1]))
			ts.Check(err)
			teams[args[i]] = team
		}
		s.mu.Lock()
		s.teams, s.h = teams, intake.NewStaffHandler(s.store, teams, zerolog.Nop())
		s.mu.Unlock()
	case "tamper":
		s.mu.Lock()
		s.tamper = true
		s.mu.Unlock()
	default:
		ts.Fatalf("unknown staffd command %q", args[0])
	}
}
