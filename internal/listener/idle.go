package listener

import (
	"sync"
	"time"
)

// idleTimer closes a connection on which no session channel has been open
// for the idle timeout. It counts sessions, not traffic: a client's
// keepalives (ServerAliveInterval) and a multiplexing master
// (ControlPersist) send packets on an otherwise unused connection for as
// long as it stays up, so counting them as activity would keep an unused
// connection, and the identity it carries, open forever. A session that
// is open, running git or not, keeps the connection. The timer starts
// when the connection has authenticated.
type idleTimer struct {
	mu      sync.Mutex
	timeout time.Duration
	close   func()
	open    int         // session channels open now
	gen     int         // bumped whenever the timer is re-armed or stopped
	t       *time.Timer // nil while a session is open
}

func newIdleTimer(timeout time.Duration, close func()) *idleTimer {
	it := &idleTimer{timeout: timeout, close: close}
	it.mu.Lock()
	it.armLocked()
	it.mu.Unlock()
	return it
}

// armLocked starts the countdown afresh; it.mu is held.
func (it *idleTimer) armLocked() {
	it.gen++
	gen := it.gen
	it.t = time.AfterFunc(it.timeout, func() {
		it.mu.Lock()
		fire := it.gen == gen && it.open == 0
		it.mu.Unlock()
		if fire {
			it.close()
		}
	})
}

// opened counts a session channel that opened and stops the countdown.
func (it *idleTimer) opened() {
	it.mu.Lock()
	defer it.mu.Unlock()
	it.open++
	it.stopLocked()
}

// closed counts a session channel that closed; with none left the
// countdown starts.
func (it *idleTimer) closed() {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.open--; it.open == 0 {
		it.armLocked()
	}
}

// stop ends the countdown for good (the connection is closing).
func (it *idleTimer) stop() {
	it.mu.Lock()
	defer it.mu.Unlock()
	it.open = -1 << 30 // no later closed() re-arms it
	it.stopLocked()
}

func (it *idleTimer) stopLocked() {
	it.gen++
	if it.t != nil {
		it.t.Stop()
		it.t = nil
	}
}
