package listener

import (
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"

	"github.com/gitserver/gitserver/shim"
)

// action is what a channel request asks the server to start.
type action int

const (
	actNone  action = iota
	actExec         // run a git command
	actShell        // interactive login: greet and exit
)

// session is what one session channel has asked for so far. Its handle
// method is pure: it decides, the connection acts.
type session struct {
	protocol string // a valid GIT_PROTOCOL, or ""
	started  bool   // an exec or shell was accepted; nothing else is
}

// handle decides the reply to one channel request and what it starts.
// Only GIT_PROTOCOL is accepted from env, and only well formed; one exec
// or shell per channel; pty, subsystems, X11 and agent forwarding are
// refused.
func (s *session) handle(typ string, payload []byte) (ok bool, act action, command string) {
	switch typ {
	case "env":
		var m struct{ Name, Value string }
		if s.started || ssh.Unmarshal(payload, &m) != nil {
			return false, actNone, ""
		}
		if m.Name != "GIT_PROTOCOL" || !shim.ValidProtocol(m.Value) {
			return false, actNone, ""
		}
		s.protocol = m.Value
		return true, actNone, ""
	case "exec":
		var m struct{ Command string }
		if s.started || ssh.Unmarshal(payload, &m) != nil {
			return false, actNone, ""
		}
		s.started = true
		return true, actExec, m.Command
	case "shell":
		if s.started || len(payload) != 0 {
			return false, actNone, ""
		}
		s.started = true
		return true, actShell, ""
	}
	return false, actNone, ""
}

// serveSession answers the requests of one session channel until it
// closes. The command runs in its own goroutine so that requests keep
// being answered (x/crypto needs that) while git runs.
func (c *conn) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	var s session
	for req := range reqs {
		ok, act, command := s.handle(req.Type, req.Payload)
		if act != actNone && !c.beginExec() {
			ok, act = false, actNone
		}
		if !ok {
			c.log.Debug("channel request refused", "request", hclog.Quote(truncate(req.Type, 64)))
		}
		_ = req.Reply(ok, nil)
		if act == actNone {
			continue
		}
		go func(protocol string) {
			defer c.endExec()
			finish(ch, c.exec(ch, command, protocol))
		}(s.protocol)
	}
}

// finish sends EOF, the exit status and closes the channel.
func finish(ch ssh.Channel, code int) {
	_ = ch.CloseWrite()
	_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
	_ = ch.Close()
}

// exec serves one command ("" for an interactive login) through the one
// request pipeline, shim.Shim.Serve, with the server's current setup: a
// policy or driver reloaded since the connection opened governs its next
// session, and Serve decides who the client is again (the connection's key
// must still be accepted). It returns the exit code.
func (c *conn) exec(ch ssh.Channel, command, protocol string) int {
	start := time.Now()
	g := c.srv.current()
	if g == nil {
		fmt.Fprintln(ch.Stderr(), shim.MsgUnavailable)
		return 1
	}
	defer g.release()
	req := shim.Request{User: c.user, Key: c.key, Credentials: []shim.Credentials{c.creds},
		Command: command, Protocol: protocol, Client: c.raw.RemoteAddr().String()}
	return g.setup.Shim.Serve(c.ctx, req, shim.Stdio{Stdin: ch, Stdout: ch, Stderr: ch.Stderr()}, start)
}
