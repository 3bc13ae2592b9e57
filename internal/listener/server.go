package listener

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("listener: server closed")

// linger is how long Shutdown gives clients to close their connections
// once their last command has ended, before it closes them itself.
const linger = time.Second

// Server is the SSH server. Its zero value is not usable: use New.
type Server struct {
	log     hclog.Logger
	gen     atomic.Pointer[generation]
	limiter *limiter

	// ctx is the parent of every connection's context; cancel kills all
	// running git commands (SIGTERM) when Shutdown runs out of time.
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	execs     int  // commands running, on all connections
	draining  bool // Shutdown was called
}

// conn is one client connection.
type conn struct {
	srv      *Server
	raw      net.Conn
	gen      *generation
	log      hclog.Logger
	ctx      context.Context
	cancel   context.CancelFunc
	user     string // from Permissions only, set once the handshake is over
	key      string
	channels atomic.Int32
	execs    int // commands running; under srv.mu
}

// New returns a server that serves connections with setup; log receives
// one line per connection and per request.
func New(log hclog.Logger, setup *Setup) (*Server, error) {
	g, err := newGeneration(setup, log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		log:       log,
		limiter:   newLimiter(setup.Limits.MaxStartups, setup.Limits.PerSourceMaxStartups),
		ctx:       ctx,
		cancel:    cancel,
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
	}
	s.gen.Store(g)
	return s, nil
}

// Reload serves connections accepted from now on with setup: host keys,
// driver, limits. Connections already open keep what they started with.
func (s *Server) Reload(setup *Setup) error {
	g, err := newGeneration(setup, s.log)
	if err != nil {
		return err
	}
	s.gen.Swap(g).release()
	s.limiter.setLimits(setup.Limits.MaxStartups, setup.Limits.PerSourceMaxStartups)
	return nil
}

// current returns the current generation with a reference taken; the
// caller releases it.
func (s *Server) current() *generation {
	for {
		g := s.gen.Load()
		if g.acquire() {
			return g
		}
		if s.gen.Load() == g {
			return nil // released by Shutdown and not replaced
		}
	}
}

// Serve accepts connections on l until Shutdown, then returns
// ErrServerClosed. It closes l.
func (s *Server) Serve(l net.Listener) error {
	if !s.addListener(l) {
		l.Close()
		return ErrServerClosed
	}
	defer s.removeListener(l)
	var backoff time.Duration
	for {
		raw, err := l.Accept()
		if err != nil {
			if s.isDraining() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of file descriptors, a connection reset before
			// accept: wait a little and go on.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed; retrying", "error", err, "delay", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		go s.handle(raw)
	}
}

// handle runs one connection from accept to close.
func (s *Server) handle(raw net.Conn) {
	start := time.Now()
	g := s.current()
	if g == nil {
		raw.Close()
		return
	}
	defer g.release()
	client := raw.RemoteAddr().String()
	t := s.limiter.acquire(sourceOf(raw.RemoteAddr()), func() { raw.Close() }, g.setup.Limits.LoginGraceTime)
	if t == nil {
		s.log.Debug("connection refused: too many unauthenticated connections from this source", "client", client)
		raw.Close()
		return
	}
	defer t.release()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	c := &conn{srv: s, raw: raw, gen: g, ctx: ctx, cancel: cancel, log: s.log.With("client", client)}
	if !s.track(c) {
		raw.Close()
		return
	}
	defer s.untrack(c)
	ic := newIdleConn(raw, g.setup.Limits.LoginGraceTime)
	auth := &authLog{log: s.log}
	sc, chans, reqs, err := ssh.NewServerConn(ic, auth.config(g.ssh))
	t.release()
	if err != nil {
		auth.handshakeFailed(err)
		c.log.Debug("handshake failed", "error", err, "duration", time.Since(start))
		return
	}
	defer sc.Close()
	ic.startIdle(g.setup.Limits.IdleTimeout)
	c.user, c.key = sc.Permissions.Extensions[ExtUser], sc.Permissions.Extensions[ExtKey]
	c.log = c.log.With("user", c.user, "key", c.key)
	c.log.Info("connection open")
	go refuseGlobal(reqs)
	go c.serveChannels(chans)
	err = sc.Wait()
	cancel()
	c.log.Info("connection closed", "duration", time.Since(start), "reason", err)
}

// refuseGlobal answers no to every global request: tcpip-forward,
// keepalive@openssh.com and the rest.
func refuseGlobal(reqs <-chan *ssh.Request) {
	for r := range reqs {
		_ = r.Reply(false, nil)
	}
}

// serveChannels accepts session channels, up to MaxChannels open at once.
func (c *conn) serveChannels(chans <-chan ssh.NewChannel) {
	for nc := range chans {
		switch {
		case nc.ChannelType() != "session":
			c.log.Info("channel refused", "type", hclog.Quote(truncate(nc.ChannelType(), 64)))
			_ = nc.Reject(ssh.Prohibited, "only session channels are allowed")
			continue
		case c.srv.isDraining():
			_ = nc.Reject(ssh.ResourceShortage, "server is shutting down")
			continue
		case int(c.channels.Load()) >= c.gen.setup.Limits.MaxChannels:
			c.log.Warn("channel refused: too many channels")
			_ = nc.Reject(ssh.ResourceShortage, "too many channels")
			continue
		}
		ch, reqs, err := nc.Accept()
		if err != nil {
			continue
		}
		c.channels.Add(1)
		go func() {
			defer c.channels.Add(-1)
			c.serveSession(ch, reqs)
		}()
	}
}

// sourceOf is the address a client's unauthenticated connections are
// counted under: its IP.
func sourceOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
