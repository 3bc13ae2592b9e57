package listener

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"

	"github.com/gitserver/gitserver/internal/builtin"
	"github.com/gitserver/gitserver/shim"
)

// waitDelay bounds how long git may linger after its context is cancelled
// (SIGTERM) or after it exits with output still in its pipes.
const waitDelay = 30 * time.Second

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
			code := 1
			if act == actExec {
				code = c.exec(ch, command, protocol)
			} else {
				c.log.Info("interactive login refused")
				fmt.Fprintln(ch.Stderr(), shim.Greeting(c.user))
			}
			finish(ch, code)
		}(s.protocol)
	}
}

// finish sends EOF, the exit status and closes the channel.
func finish(ch ssh.Channel, code int) {
	_ = ch.CloseWrite()
	_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
	_ = ch.Close()
}

// exec runs one command through the shim, as 'gitserver shell' does, and
// returns its exit code. The client sees only the shim's short messages;
// the operator's log gets one line with the detail.
func (c *conn) exec(ch ssh.Channel, command, protocol string) int {
	start := time.Now()
	req := shim.Request{User: c.user, Key: c.key, Command: command, Protocol: protocol}
	plan, err := c.gen.setup.Shim.Plan(c.ctx, req)
	if errors.Is(err, shim.ErrNoCommand) {
		c.log.Info("interactive login refused")
		fmt.Fprintln(ch.Stderr(), shim.Greeting(c.user))
		return 1
	}
	if errors.Is(err, shim.ErrBuiltin) {
		code, err := builtin.Run(c.ctx, builtin.Env{Driver: c.gen.setup.Shim.Driver, Root: c.gen.setup.Shim.Root,
			Req: req, Cmd: *plan.Builtin, Stdin: ch, Stdout: ch, Stderr: ch.Stderr()})
		c.log.Info("request", append(builtin.LogArgs(*plan.Builtin, code, err), "duration", time.Since(start))...)
		return code
	}
	if err != nil {
		c.refused(ch, req, plan, err, start)
		return 1
	}
	c.log.Debug("request started", "command", plan.Verb, "repo", plan.Name)
	code, err := run(c.ctx, plan, ch)
	args := []any{"command", plan.Verb, "repo", plan.Name, "decision", "allow", "rule", plan.Rule, "exit", code, "duration", time.Since(start)}
	if err != nil {
		fmt.Fprintln(ch.Stderr(), shim.MsgUnavailable)
		c.log.Error("request", append(args, "error", err)...)
		return code
	}
	c.log.Info("request", args...)
	return code
}

// refused tells the client why, briefly, and the operator in detail.
func (c *conn) refused(ch ssh.Channel, req shim.Request, plan *shim.Plan, err error, start time.Time) {
	msg, args := shim.Refusal(req, plan, err)
	c.log.Info("request", append(args, "exit", 1, "duration", time.Since(start))...)
	fmt.Fprintln(ch.Stderr(), msg)
}

// run starts git on the channel and waits for it. stdin is copied by a
// goroutine of ours rather than by exec.Cmd, so that Wait returns when git
// exits even though the client has not sent EOF (it waits for the exit
// status before it does). A cancelled ctx sends git SIGTERM.
func run(ctx context.Context, plan *shim.Plan, ch ssh.Channel) (int, error) {
	cmd := plan.Command(ctx, nil, ch, ch.Stderr())
	cmd.WaitDelay = waitDelay
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 1, err
	}
	if err := cmd.Start(); err != nil {
		return 1, err
	}
	go func() {
		_, _ = io.Copy(stdin, ch)
		_ = stdin.Close()
	}()
	err = cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return shim.ExitCode(err), err
	}
	return shim.ExitCode(err), nil
}
