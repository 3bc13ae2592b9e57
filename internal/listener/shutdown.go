package listener

import (
	"context"
	"net"
	"time"
)

// Shutdown stops the server: it closes the listeners at once, closes the
// connections that run no command, refuses new channels and commands, and
// waits for running commands to end. When ctx is done first it sends them
// SIGTERM and closes every connection, and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	first := !s.draining
	s.draining = true
	for l := range s.listeners {
		l.Close()
	}
	s.closeIdleLocked()
	s.mu.Unlock()

	err := s.waitFor(ctx, func() bool { return s.execs == 0 })
	if err != nil {
		s.cancel()
	}
	// Let clients read the exit status and close first; closing under
	// them with data unread could reset the connection.
	lctx, cancel := context.WithTimeout(context.Background(), linger)
	_ = s.waitFor(lctx, func() bool { return len(s.conns) == 0 })
	cancel()
	s.mu.Lock()
	for c := range s.conns {
		c.raw.Close()
	}
	s.mu.Unlock()
	s.cancel()
	if first {
		s.gen.Load().release()
	}
	return err
}

// waitFor polls cond, under s.mu, until it holds or ctx is done.
func (s *Server) waitFor(ctx context.Context, cond func() bool) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		s.mu.Lock()
		ok := cond()
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// closeIdleLocked closes connections that run no command; s.mu is held.
func (s *Server) closeIdleLocked() {
	for c := range s.conns {
		if c.execs == 0 {
			c.raw.Close()
		}
	}
}

// beginExec counts a command about to start on c; false once draining.
func (c *conn) beginExec() bool {
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return false
	}
	c.execs++
	s.execs++
	return true
}

// endExec counts a command that ended.
func (c *conn) endExec() {
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	c.execs--
	s.execs--
}

func (s *Server) isDraining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

func (s *Server) addListener(l net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return false
	}
	s.listeners[l] = struct{}{}
	return true
}

func (s *Server) removeListener(l net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.listeners, l)
}

// track registers a new connection; false once draining.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}
