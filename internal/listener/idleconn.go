package listener

import (
	"net"
	"sync/atomic"
	"time"
)

// idleConn is a net.Conn whose deadline moves forward with traffic, so
// that a connection on which no byte moves for the idle timeout fails
// its next (or pending) read and write and is closed by its owner. Until
// startIdle is called the deadline stays where SetDeadline put it: the
// login grace time.
type idleConn struct {
	net.Conn
	timeout atomic.Int64 // nanoseconds; 0 while the deadline is fixed
	last    atomic.Int64 // when the deadline was last moved, UnixNano
}

func newIdleConn(c net.Conn, grace time.Duration) *idleConn {
	ic := &idleConn{Conn: c}
	_ = c.SetDeadline(time.Now().Add(grace))
	return ic
}

// startIdle ends the fixed deadline: from now on the connection is closed
// after timeout without traffic.
func (c *idleConn) startIdle(timeout time.Duration) {
	c.timeout.Store(int64(timeout))
	c.last.Store(0)
	c.touch()
}

// touch moves the deadline to now+timeout. To keep the cost of a read or
// write low it does so at most every timeout/8, so the connection closes
// between 7/8 and all of timeout after the last traffic.
func (c *idleConn) touch() {
	t := c.timeout.Load()
	if t == 0 {
		return
	}
	now := time.Now().UnixNano()
	last := c.last.Load()
	if now-last < t/8 || !c.last.CompareAndSwap(last, now) {
		return
	}
	_ = c.Conn.SetDeadline(time.Unix(0, now+t))
}

func (c *idleConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.touch()
	}
	return n, err
}

func (c *idleConn) Write(p []byte) (int, error) {
	c.touch()
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.touch()
	}
	return n, err
}
