package onion_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearken-project/hearken/internal/onion"
	"github.com/hearken-project/hearken/internal/tornet"
)

// TestTorOnionClientAuth runs a client-authorized onion service on a
// private Tor network and checks what each kind of client gets: the key
// added through the control port opens it; no key, a wrong key, and a tor
// without extended errors each get their own plain-words error.
func TestTorOnionClientAuth(t *testing.T) {
	begin := time.Now()
	tn := tornet.Start(t, tornet.Options{})

	lead := mustKey(t)
	wrong := mustKey(t)

	const greeting = "hello from the staff onion"
	sock := tn.SocketPath("web.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, greeting) }),
		ReadHeaderTimeout: 30 * time.Second,
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	step := time.Now()
	svc := tn.AddService(tornet.ServiceOptions{
		Target:            "unix:" + sock,
		AuthorizedClients: []onion.ClientPublicKey{lead.Public()},
	})
	t.Logf("onion service published in %s", time.Since(step).Round(100*time.Millisecond))

	step = time.Now()
	clients := tn.AddClients(
		tornet.ClientOptions{SocksFlags: "ExtendedErrors"},
		tornet.ClientOptions{SocksFlags: "ExtendedErrors", Keys: map[string]*onion.ClientKey{svc.Address: wrong}},
		tornet.ClientOptions{},
	)
	leadTor, wrongTor, plainTor := clients[0], clients[1], clients[2]
	t.Logf("clients bootstrapped in %s", time.Since(step).Round(100*time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	target := svc.Address + ":80"

	// (b) No key yet: tor fetches the descriptor but cannot open it.
	step = time.Now()
	_, err = leadTor.Dial(ctx, target)
	wantDialError(t, "no key", err, onion.ErrNoKey, 0xF4, "this computer's onion key is missing")
	t.Logf("missing key reported in %s", time.Since(step).Round(100*time.Millisecond))

	// (a) The key, added through the control port (its unix socket, as
	// Debian's /run/tor/control), opens the service.
	ctl, err := onion.DialControl(ctx, leadTor.ControlSocket, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	if err := ctl.AddClientAuth(ctx, svc.Address, lead); err != nil {
		t.Fatal(err)
	}
	step = time.Now()
	conn, err := leadTor.Dial(ctx, target)
	if err != nil {
		t.Fatalf("with the key added: %v", err)
	}
	defer conn.Close()
	req, _ := http.NewRequest("GET", "http://"+svc.Address+"/", nil)
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatalf("GET through the onion: %v", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	if string(body) != greeting {
		t.Fatalf("GET through the onion = %q, want %q", body, greeting)
	}
	t.Logf("reached with the key in %s", time.Since(step).Round(100*time.Millisecond))

	// (c) A key the service does not list, from the client's
	// ClientOnionAuthDir file: tor read the file (else this would be 0xF4).
	_, err = wrongTor.Dial(ctx, target)
	wantDialError(t, "wrong key", err, onion.ErrKeyRefused, 0xF5, "does not accept this computer's onion key")

	// A tor without ExtendedErrors (Debian's SocksPort 9050) can say only
	// "unreachable"; the words name the possible causes.
	_, err = plainTor.Dial(ctx, target)
	wantDialError(t, "no extended errors", err, onion.ErrUnreachable, 0x01, "onion key may be missing or refused")

	t.Logf("network bootstrap %s; whole test %s", tn.Bootstrap.Round(100*time.Millisecond), time.Since(begin).Round(100*time.Millisecond))
}

func mustKey(t *testing.T) *onion.ClientKey {
	t.Helper()
	k, err := onion.GenerateClientKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func wantDialError(t *testing.T, what string, err, want error, reply byte, words string) {
	t.Helper()
	var de *onion.DialError
	if !errors.Is(err, want) || !errors.As(err, &de) || de.Reply != reply || !strings.Contains(err.Error(), words) {
		t.Fatalf("%s: got %v, want %v (reply 0x%02x) saying %q", what, err, want, reply, words)
	}
	t.Logf("%s: %v", what, err)
}
