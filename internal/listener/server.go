package listener

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gitserver/gitserver/shim"
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
	srv    *Server
	raw    net.Conn
	limits Limits   // of the generation the connection authenticated with
	obs    Observer // of that generation too
	log    hclog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	// user, key and creds come from Permissions only, set once the
	// handshake is over: who the connection authenticated as, which
	// every session checks again.
	user, key string
	creds     shim.Credentials
	channels  atomic.Int32
	idle      *idleTimer
	execs     int // commands running; under srv.mu
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

// Reload serves with setup from now on: new connections authenticate with
// its host keys, driver and limits, and every new session, also on a
// connection already open, runs through its Shim. A session already
// running finishes with what it started with.
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
	client := raw.RemoteAddr().String()
	sc, chans, reqs, c := s.handshake(raw)
	if sc == nil {
		return
	}
	defer c.obs.Closed(ConnOK)
	defer s.untrack(c)
	defer sc.Close()
	defer c.cancel()
	c.log.Info("connection open")
	go refuseGlobal(reqs)
	go c.serveChannels(chans)
	err := sc.Wait()
	c.cancel()
	c.idle.stop()
	c.log.Info("connection closed", "duration", time.Since(start), "reason", err, "client", client)
}

// handshake authenticates raw with the current generation, within the
// login grace time and the limits on unauthenticated connections, and
// returns the connection, tracked, with its identity; or nil when the
// client did not authenticate (raw is then closed). The generation is
// released once the handshake is over: sessions use the current one.
func (s *Server) handshake(raw net.Conn) (*ssh.ServerConn, <-chan ssh.NewChannel, <-chan *ssh.Request, *conn) {
	start := time.Now()
	g := s.current()
	if g == nil {
		raw.Close()
		return nil, nil, nil, nil
	}
	defer g.release()
	lim := g.setup.Limits
	obs := observerOf(g.setup)
	obs.Opened()
	client := raw.RemoteAddr().String()
	t := s.limiter.acquire(sourceOf(raw.RemoteAddr()), func() { raw.Close() }, lim.LoginGraceTime)
	if t == nil {
		s.log.Debug("connection refused: too many unauthenticated connections from this source", "client", client)
		raw.Close()
		obs.Closed(ConnRefused)
		return nil, nil, nil, nil
	}
	defer t.release()
	ctx, cancel := context.WithCancel(s.ctx)
	c := &conn{srv: s, raw: raw, limits: lim, obs: obs, ctx: ctx, cancel: cancel, log: s.log.With("client", client)}
	if !s.track(c) {
		cancel()
		raw.Close()
		obs.Closed(ConnRefused)
		return nil, nil, nil, nil
	}
	_ = raw.SetDeadline(start.Add(lim.LoginGraceTime))
	auth := &authLog{log: s.log, obs: obs}
	sc, chans, reqs, err := ssh.NewServerConn(raw, auth.config(g.ssh))
	if err != nil {
		auth.handshakeFailed(err)
	}
	if err == nil {
		err = c.identify(sc)
	}
	if err == nil {
		obs.Authentication(AuthOK)
		// A client that closes at once may have had x/crypto close raw
		// already: the connection authenticated all the same, and Wait
		// ends it at once (logged open, then closed).
		_ = raw.SetDeadline(time.Time{})
	}
	if err != nil {
		c.log.Debug("handshake failed", "error", err, "duration", time.Since(start))
		if sc != nil {
			sc.Close()
		}
		raw.Close()
		s.untrack(c)
		cancel()
		obs.Closed(ConnFailed)
		return nil, nil, nil, nil
	}
	c.log = c.log.With("user", c.user, "key", c.key)
	c.idle = newIdleTimer(lim.IdleTimeout, func() {
		c.log.Info("closing idle connection: no session open", "idle_timeout", lim.IdleTimeout)
		sc.Close()
	})
	return sc, chans, reqs, c
}

// identify reads who the connection authenticated as from its
// Permissions, which x/crypto filled from the key that signed.
func (c *conn) identify(sc *ssh.ServerConn) error {
	ext := sc.Permissions.Extensions
	blob, err := base64.StdEncoding.DecodeString(ext[ExtKeyData])
	if err != nil || ext[ExtUser] == "" || ext[ExtKey] == "" || ext[ExtKeyType] == "" {
		return errors.New("listener: authenticated without an identity")
	}
	c.user, c.key = ext[ExtUser], ext[ExtKey]
	c.creds = shim.Credentials{LoginUser: sc.User(), KeyType: ext[ExtKeyType], Key: blob, Fingerprint: c.key}
	return nil
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
		case int(c.channels.Load()) >= c.limits.MaxChannels:
			c.log.Warn("channel refused: too many channels")
			_ = nc.Reject(ssh.ResourceShortage, "too many channels")
			continue
		}
		ch, reqs, err := nc.Accept()
		if err != nil {
			continue
		}
		c.channels.Add(1)
		c.idle.opened()
		go func() {
			defer c.idle.closed()
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
