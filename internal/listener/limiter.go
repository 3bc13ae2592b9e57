package listener

import (
	"container/list"
	"sync"
	"time"
)

// limiter counts unauthenticated connections, like sshd's MaxStartups and
// PerSourceMaxStartups. A connection holds a ticket from accept until its
// handshake ends; an authenticated connection counts against nothing.
//
// A connection from a source at its own limit waits, for a bounded time,
// until one of that source's handshakes ends, so that a burst of clones
// from one build host gets through one after the other; at most
// waitFactor*max connections wait at once, and beyond that (or after the
// wait) a new connection is closed at once. When the overall limit is
// reached, the oldest unauthenticated connection is evicted to make room,
// so that a flood from many addresses holds a slot only until MaxStartups
// newer connections arrive, and a client that authenticates in a few
// round trips still gets in. Memory is bounded by (1+waitFactor)*max
// connections.
type limiter struct {
	mu        sync.Mutex
	max       int
	perSource int
	bySource  map[string]int
	pending   *list.List    // of *ticket, oldest first
	waiting   int           // connections waiting for their source's turn
	changed   chan struct{} // closed and replaced when a place frees up
}

// waitFactor times the overall limit is how many connections may wait
// for a place from their source.
const waitFactor = 4

// ticket is one unauthenticated connection's place in the limiter.
type ticket struct {
	l      *limiter
	source string
	evict  func()
	elem   *list.Element // nil once released or evicted
}

func newLimiter(max, perSource int) *limiter {
	return &limiter{max: max, perSource: perSource, bySource: map[string]int{}, pending: list.New(), changed: make(chan struct{})}
}

// setLimits changes the limits for connections that come next.
func (l *limiter) setLimits(max, perSource int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.max, l.perSource = max, perSource
}

// acquire admits a connection from source, or returns nil when source
// still has perSource unauthenticated connections after waiting up to
// wait (or at once, when too many wait already). evict closes the
// connection; it is called (outside the lock) if the connection is pushed
// out by newer ones before release.
func (l *limiter) acquire(source string, evict func(), wait time.Duration) *ticket {
	var evicted []*ticket
	defer func() {
		for _, t := range evicted {
			t.evict()
		}
	}()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.waitForSource(source, wait) {
		return nil
	}
	for l.pending.Len() >= l.max {
		old := l.pending.Front().Value.(*ticket)
		l.remove(old)
		evicted = append(evicted, old)
	}
	t := &ticket{l: l, source: source, evict: evict}
	t.elem = l.pending.PushBack(t)
	l.bySource[source]++
	return t
}

// waitForSource waits until source is under its limit; l.mu is held.
func (l *limiter) waitForSource(source string, wait time.Duration) bool {
	if l.bySource[source] < l.perSource {
		return true
	}
	if wait <= 0 || l.waiting >= waitFactor*l.max {
		return false
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	l.waiting++
	defer func() { l.waiting-- }()
	for l.bySource[source] >= l.perSource {
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
			l.mu.Lock()
		case <-timer.C:
			l.mu.Lock()
			return l.bySource[source] < l.perSource
		}
	}
	return true
}

// release gives the ticket's place back; it may be called more than once,
// and after an eviction.
func (t *ticket) release() {
	t.l.mu.Lock()
	defer t.l.mu.Unlock()
	t.l.remove(t)
}

// remove takes t out of the counts; l.mu is held.
func (l *limiter) remove(t *ticket) {
	if t.elem == nil {
		return
	}
	l.pending.Remove(t.elem)
	t.elem = nil
	close(l.changed)
	l.changed = make(chan struct{})
	if n := l.bySource[t.source] - 1; n > 0 {
		l.bySource[t.source] = n
	} else {
		delete(l.bySource, t.source)
	}
}

// counts returns the unauthenticated connections overall and from source.
func (l *limiter) counts(source string) (total, fromSource int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pending.Len(), l.bySource[source]
}
