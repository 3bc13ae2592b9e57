// Package event carries serve's metrics to the process that exports
// them. gitserver itself links no HTTP server (sshd starts it for every
// login, and net/http would slow each start), so under 'gitserver serve'
// the Prometheus endpoint lives in the gitserver-deliver helper, serve's
// child: serve writes one JSON object per line on a pipe, and the helper
// turns the lines into counters, gauges and histograms (package
// internal/metrics).
//
// Sending never blocks the request path: events go through a bounded
// buffer, and when it is full they are dropped and counted (the helper
// exports the count), never waited for.
package event

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Kinds of events.
const (
	State       = "state"       // first on each pipe: Ready, InFlight, Dropped so far
	Ready       = "ready"       // Ready: serve listens (true) or is stopping (false)
	Dropped     = "dropped"     // Dropped: the events dropped so far
	ConnOpen    = "conn_open"   // a connection was accepted; InFlight after it
	ConnClose   = "conn_close"  // a connection ended with Result; InFlight after it
	Auth        = "auth"        // one authentication attempt's Result
	KeyLookup   = "key_lookup"  // one key lookup by the driver, Seconds
	Request     = "request"     // one request: Service, Result, Seconds, In, Out, Repo
	Maintenance = "maintenance" // one scheduled maintenance run: Result, Seconds
)

// Event is one line on the pipe.
type Event struct {
	Kind     string  `json:"k"`
	Result   string  `json:"r,omitempty"`
	Service  string  `json:"s,omitempty"`
	Repo     string  `json:"repo,omitempty"`
	Seconds  float64 `json:"d,omitempty"`
	In       int64   `json:"in,omitempty"`
	Out      int64   `json:"out,omitempty"`
	InFlight int64   `json:"inflight,omitempty"`
	Ready    bool    `json:"ready,omitempty"`
	Dropped  int64   `json:"dropped,omitempty"`
}

// MaxLine bounds one line: a longer one is an error, not cut.
const MaxLine = 4096

// Sink is serve's end: Send queues an event without ever blocking, Run
// writes the queue to the helper's pipe. Its zero value is not usable:
// use NewSink. All methods are safe for concurrent use; a nil *Sink
// drops everything, so that callers need no check.
type Sink struct {
	ch       chan Event
	dropped  atomic.Int64
	inFlight atomic.Int64
	ready    atomic.Bool
	run      sync.Mutex // one Run at a time
}

// NewSink buffers up to n events.
func NewSink(n int) *Sink { return &Sink{ch: make(chan Event, n)} }

// Send queues e, or drops it (counted) when the buffer is full.
func (s *Sink) Send(e Event) {
	if s == nil {
		return
	}
	select {
	case s.ch <- e:
	default:
		s.dropped.Add(1)
	}
}

// Opened and Closed count a connection in and out, and send the
// number in flight with the event.
func (s *Sink) Opened() {
	if s != nil {
		s.Send(Event{Kind: ConnOpen, InFlight: s.inFlight.Add(1)})
	}
}

// Closed: see Opened.
func (s *Sink) Closed(result string) {
	if s != nil {
		s.Send(Event{Kind: ConnClose, Result: result, InFlight: s.inFlight.Add(-1)})
	}
}

// Authentication counts one authentication attempt's result.
func (s *Sink) Authentication(result string) { s.Send(Event{Kind: Auth, Result: result}) }

// KeyLookup records how long one key lookup took.
func (s *Sink) KeyLookup(d time.Duration) { s.Send(Event{Kind: KeyLookup, Seconds: d.Seconds()}) }

// SetReady says whether serve takes connections.
func (s *Sink) SetReady(ready bool) {
	if s != nil {
		s.ready.Store(ready)
		s.Send(Event{Kind: Ready, Ready: ready})
	}
}

// Run writes a State event, then every queued event, to w until ctx
// ends or a write fails (the helper went away: queued events wait for
// the next Run, with a fresh State).
func (s *Sink) Run(ctx context.Context, w io.Writer) error {
	s.run.Lock()
	defer s.run.Unlock()
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	state := Event{Kind: State, Ready: s.ready.Load(), InFlight: s.inFlight.Load(), Dropped: s.dropped.Load()}
	if err := enc.Encode(state); err != nil {
		return err
	}
	for {
		if err := bw.Flush(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e := <-s.ch:
			if err := enc.Encode(e); err != nil {
				return err
			}
			// Write what else is queued in the same flush.
			for more := true; more; {
				select {
				case e := <-s.ch:
					if err := enc.Encode(e); err != nil {
						return err
					}
				default:
					more = false
				}
			}
			if n := s.dropped.Load(); n != state.Dropped {
				state.Dropped = n
				if err := enc.Encode(Event{Kind: Dropped, Dropped: n}); err != nil {
					return err
				}
			}
		}
	}
}

// Since is the seconds from start to now, for Event.Seconds.
func Since(start time.Time) float64 { return time.Since(start).Seconds() }

// Read decodes the events on r, one per line, calling fn for each, until
// EOF (nil) or a line that is not an event (an error naming its line).
func Read(r io.Reader, fn func(Event)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), MaxLine)
	for n := 1; sc.Scan(); n++ {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Kind == "" {
			return fmt.Errorf("event: line %d is not an event: %q", n, truncate(sc.Bytes()))
		}
		fn(e)
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return fmt.Errorf("event: a line is longer than %d bytes", MaxLine)
	}
	return sc.Err()
}

func truncate(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}
