package event

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// TestSinkToRead: what Send queues, Run writes after a State line, and
// Read gives back in order; a full buffer drops and counts, never blocks.
func TestSinkToRead(t *testing.T) {
	s := NewSink(4)
	s.SetReady(true)
	s.Opened()
	s.Authentication("ok")
	s.Closed("ok")
	s.Send(Event{Kind: Request, Service: "git-upload-pack", Result: "ok", Seconds: 0.5, In: 10, Out: 20})
	if got := s.dropped.Load(); got != 1 {
		t.Fatalf("dropped = %d with 5 events in a buffer of 4, want 1", got)
	}
	r, w := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx, w); w.Close() }()
	var got []Event
	done := make(chan error, 1)
	go func() {
		done <- Read(r, func(e Event) {
			got = append(got, e)
			if len(got) == 5 {
				cancel()
			}
		})
	}()
	if err := <-runErr; err != context.Canceled {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{Kind: State, Ready: true, InFlight: 1, Dropped: 1},
		{Kind: Ready, Ready: true},
		{Kind: ConnOpen, InFlight: 1},
		{Kind: Auth, Result: "ok"},
		{Kind: ConnClose, Result: "ok"},
	}
	// The State line is written when Run starts: the connection closed
	// before that, so in flight is 0 there, and the drop is counted.
	want[0].InFlight = 0
	if len(got) != len(want) {
		t.Fatalf("got %d events %+v, want %+v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestNilSinkDropsQuietly(t *testing.T) {
	var s *Sink
	s.Send(Event{Kind: Auth})
	s.Opened()
	s.Closed("ok")
	s.Authentication("ok")
	s.KeyLookup(time.Millisecond)
	s.SetReady(true)
}

func TestSendNeverBlocks(t *testing.T) {
	s := NewSink(1)
	for range 1000 {
		s.Send(Event{Kind: Auth, Result: "ok"})
	}
	if got := s.dropped.Load(); got != 999 {
		t.Fatalf("dropped = %d, want 999", got)
	}
}

func TestReadRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"not json":      "hello\n",
		"no kind":       `{"r":"ok"}` + "\n",
		"too long":      `{"k":"auth","r":"` + strings.Repeat("x", MaxLine) + `"}` + "\n",
		"second broken": `{"k":"auth","r":"ok"}` + "\n{\n",
	} {
		n := 0
		err := Read(strings.NewReader(in), func(Event) { n++ })
		if err == nil {
			t.Errorf("%s: Read accepted %q", name, in)
		}
		if name == "second broken" && n != 1 {
			t.Errorf("%s: %d events before the error, want 1", name, n)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"k":"request","s":"git-upload-pack","r":"ok","d":0.1,"in":1,"out":2}` + "\n"))
	f.Add([]byte("{}\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = Read(strings.NewReader(string(b)), func(e Event) {
			if e.Kind == "" {
				t.Fatalf("an event without a kind from %q", b)
			}
		})
	})
}

// gateWriter tells when the first write starts and holds it until open.
type gateWriter struct {
	started chan struct{}
	open    chan struct{}
	w       io.Writer
	first   bool
}

func (g *gateWriter) Write(p []byte) (int, error) {
	if !g.first {
		g.first = true
		close(g.started)
		<-g.open
	}
	return g.w.Write(p)
}

// TestDropsReported: events dropped while Run was writing are reported
// by a Dropped line after the queued ones.
func TestDropsReported(t *testing.T) {
	s := NewSink(1)
	r, w := io.Pipe()
	g := &gateWriter{started: make(chan struct{}), open: make(chan struct{}), w: w}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { s.Run(ctx, g); w.Close() }()
	<-g.started // the State line is being written
	for range 3 {
		s.Send(Event{Kind: Auth, Result: "ok"})
	}
	close(g.open)
	var got []Event
	Read(r, func(e Event) {
		got = append(got, e)
		if len(got) == 3 {
			cancel()
		}
	})
	want := []Event{{Kind: State}, {Kind: Auth, Result: "ok"}, {Kind: Dropped, Dropped: 2}}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	}
}
