package listener

import (
	"strings"
	"time"
)

// Observer is told what the server does, for metrics (under serve, an
// *event.Sink, which hands it to the metrics endpoint). Its methods run
// on the connections' goroutines and must not block.
type Observer interface {
	// Opened: a connection was accepted.
	Opened()
	// Closed: it ended, with one of the Conn* results.
	Closed(result string)
	// Authentication: one attempt, AuthOK or a failure reason with
	// underscores for spaces ("unknown_key"; see the authentication
	// failed log line).
	Authentication(result string)
	// KeyLookup: the driver looked a key up, taking d.
	KeyLookup(d time.Duration)
}

// The results of a connection.
const (
	ConnOK      = "ok"      // authenticated, served, closed
	ConnRefused = "refused" // too many unauthenticated connections, or shutting down
	ConnFailed  = "failed"  // did not authenticate: refused, timed out, or went away
	AuthOK      = "ok"
)

// authResult is a failure reason as an Observer's result.
func authResult(reason string) string { return strings.ReplaceAll(reason, " ", "_") }

// nopObserver is the Observer of a Setup that has none.
type nopObserver struct{}

func (nopObserver) Opened()                 {}
func (nopObserver) Closed(string)           {}
func (nopObserver) Authentication(string)   {}
func (nopObserver) KeyLookup(time.Duration) {}

func observerOf(s *Setup) Observer {
	if s.Observer == nil {
		return nopObserver{}
	}
	return s.Observer
}
