// Package tornet runs a private Tor network on 127.0.0.1 for tests, with
// Debian's tor and tor-gencert: three directory authorities, relays, onion
// services (optionally with client authorization) and tor clients.
//
//	net := tornet.Start(t, tornet.Options{})
//	svc := net.AddService(tornet.ServiceOptions{Target: "unix:" + sock,
//		AuthorizedClients: []onion.ClientPublicKey{key.Public()}})
//	clients := net.AddClients(tornet.ClientOptions{SocksFlags: "ExtendedErrors"})
//	conn, err := clients[0].Dial(ctx, svc.Address+":80")
//
// Every wait polls a condition through the node's control port (bootstrap
// phase, the relays in its consensus, HS_DESC upload events) or tries a
// connection; none sleeps for a fixed time. The authorities vote every 10
// seconds, so the network is up in about half a minute, and each tor exits
// by itself should the test process die (__OwningControllerProcess).
// Everything lives under t.TempDir() and is stopped and removed when the
// test ends.
//
// Tests using it skip with -short or when HEARKEN_SKIP_TOR is set, and
// fail, never skip, when tor is not installed.
package tornet
