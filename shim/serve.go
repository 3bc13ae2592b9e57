package shim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Stdio is where one request's input comes from and its output goes: the
// forced command's own stdin, stdout and stderr behind sshd, a session
// channel under serve. Stderr reaches the client: it gets short messages
// only.
type Stdio struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// BuiltinCall is one vetted built-in command: Plan has checked who sent
// it and that the user still exists.
type BuiltinCall struct {
	Driver Driver
	Root   string
	User   string
	Key    string
	Model  UserModel
	Cmd    Builtin
	// Client is the client's address ("" when unknown): behind a trusted
	// proxy, the one its PROXY header gave.
	Client string
	Stdio
}

// BuiltinFunc runs a built-in command and returns its exit code and, when
// it refused or failed, the detail for the operator's log; it has told
// the client, briefly, on Stderr (see package internal/builtin).
type BuiltinFunc func(ctx context.Context, c BuiltinCall) (code int, err error)

// waitDelay bounds how long git may linger after its context is cancelled
// (SIGTERM) or after it exits with output still in its pipes.
const waitDelay = 30 * time.Second

// Serve is the whole of one request: Plan, then git or the built-in
// command on stdio, then one "request" line in the log, and, when
// Observe is set, its Summary. It returns the exit status for the
// client. start is when the request arrived, for the logged duration. A
// cancelled ctx sends git SIGTERM.
func (s *Shim) Serve(ctx context.Context, req Request, stdio Stdio, start time.Time) int {
	if s.Observe == nil {
		code, _ := s.serve(ctx, req, stdio, start)
		return code
	}
	in, out := &countReader{r: stdio.Stdin}, &countWriter{w: stdio.Stdout}
	if stdio.Stdin != nil {
		stdio.Stdin = in
	}
	stdio.Stdout = out
	code, o := s.serve(ctx, req, stdio, start)
	o.Duration, o.BytesIn, o.BytesOut = time.Since(start), in.n.Load(), out.n.Load()
	s.Observe(o)
	return code
}

func (s *Shim) serve(ctx context.Context, req Request, stdio Stdio, start time.Time) (int, Summary) {
	log := s.logger()
	if req.Client != "" {
		log = log.With("client", req.Client)
	}
	plan, err := s.Plan(ctx, req)
	if err == nil || errors.Is(err, ErrBuiltin) {
		s.ready()
	}
	if plan != nil && plan.User != "" {
		log = log.With("user", plan.User, "key", plan.Key)
	} else {
		log = log.With("user", req.User, "key", req.Key)
	}
	switch {
	case errors.Is(err, ErrNoCommand):
		log.Info("request", "command", "shell", "decision", "deny", "error", "interactive login refused", "exit", 1, "duration", time.Since(start))
		fmt.Fprintln(stdio.Stderr, Greeting(plan.User))
		return 1, Summary{Service: ServiceShell, Result: ResultDenied}
	case errors.Is(err, ErrBuiltin):
		code, err := s.serveBuiltin(ctx, log, plan, req.Client, stdio, start)
		o := Summary{Service: ServiceBuiltin, Result: ResultOK, Repo: plan.Builtin.Repo}
		switch {
		case err != nil:
			o.Result = ResultDenied // refused, or failed: the log line says which
		case code != 0:
			o.Result = ResultFailed
		}
		return code, o
	case err != nil:
		msg, args := Refusal(req, plan, err)
		log.Info("request", append(args, "exit", 1, "duration", time.Since(start))...)
		fmt.Fprintln(stdio.Stderr, msg)
		return 1, refusalSummary(plan, err)
	}
	o := Summary{Service: plan.Verb, Repo: plan.Name}
	if plan.Verb == LFSTransfer {
		code := s.serveLFS(ctx, log, plan, stdio, start)
		o.Result = resultOf(code, nil, false)
		return code, o
	}
	log.Debug("request started", "command", plan.Verb, "repo", plan.Name)
	readReport := s.reportRefs(log, plan)
	firstPush := plan.Verb == ReceivePack && !hasBranches(plan.Dir)
	code, err := runGit(ctx, plan, stdio)
	if firstPush && err == nil && code == 0 {
		if head, err := s.pointHead(ctx, plan.Dir); err != nil {
			log.Warn("cannot point HEAD at a pushed branch", "repo", plan.Name, "error", err)
		} else if head != "" {
			log.Info("HEAD pointed at the first pushed branch", "repo", plan.Name, "head", head)
		}
	}
	report := readReport()
	args := []any{"command", plan.Verb, "repo", plan.Name}
	args = append(append(args, report...), "rule", plan.Rule, "exit", code, "duration", time.Since(start))
	o.Result = resultOf(code, err, denied(report))
	if err != nil {
		fmt.Fprintln(stdio.Stderr, MsgUnavailable)
		log.Error("request", append(args, "error", err)...)
		return code, o
	}
	log.Info("request", args...)
	return code, o
}

// serveBuiltin runs a vetted built-in command and logs it; it returns
// the exit code and, when the command refused or failed, why.
func (s *Shim) serveBuiltin(ctx context.Context, log hclog.Logger, plan *Plan, client string, stdio Stdio, start time.Time) (int, error) {
	b := *plan.Builtin
	code, err := 1, error(nil)
	if s.Builtin == nil {
		fmt.Fprintln(stdio.Stderr, MsgBadBuiltin)
		err = errors.New("built-in commands are not served here")
	} else {
		code, err = s.Builtin(ctx, BuiltinCall{Driver: s.Driver, Root: s.Root, User: plan.User, Key: plan.Key, Model: plan.Model, Cmd: b, Client: client, Stdio: stdio})
	}
	decision := "allow"
	if err != nil {
		decision = "deny"
	}
	args := []any{"command", b.String(), "decision", decision, "exit", code}
	if b.User != "" {
		args = append(args, "target_user", hclog.Quote(b.User))
	}
	if b.Arg != "" {
		args = append(args, "arg", hclog.Quote(b.Arg))
	}
	if b.Repo != "" {
		args = append(args, "repo", b.Repo)
	}
	if b.Branch != "" {
		args = append(args, "branch", hclog.Quote(b.Branch))
	}
	if b.Role != "" {
		args = append(args, "role", hclog.Quote(b.Role), "member", hclog.Quote(b.Member))
	}
	if err != nil {
		args = append(args, "error", err)
	}
	log.Info("request", append(args, "duration", time.Since(start))...)
	return code, err
}

// reportRefs sets a push up to report what its pre-receive check decided
// (EnvReport), and returns what the request line then says: the
// decision, and for a push the ref updates and how many were refused
// (any refused refuses the push: decision=deny). Without a report (no
// per-ref check, or git stopped before its hooks) the decision is the
// request's: allow.
func (s *Shim) reportRefs(log hclog.Logger, plan *Plan) func() []any {
	allow := func() []any { return []any{"decision", "allow"} }
	if plan.Verb != ReceivePack || s.Hooks == nil {
		return allow
	}
	path, read, err := newReport()
	if err != nil {
		log.Warn("cannot make the push's ref report; the request line will not count refs", "error", err)
		return allow
	}
	plan.Env = append(plan.Env, EnvReport+"="+path)
	return func() []any {
		r, err := read()
		if err != nil {
			if !errors.Is(err, errNoReport) {
				log.Warn("unreadable ref report", "error", err)
			}
			return allow()
		}
		decision := "allow"
		if r.Refused > 0 {
			decision = "deny"
		}
		return []any{"decision", decision, "refs", r.Refs, "refused", r.Refused}
	}
}

func (s *Shim) logger() hclog.Logger {
	if s.Log == nil {
		return hclog.NewNullLogger()
	}
	return s.Log
}

// runGit runs git as plan says on stdio and waits for it; it returns git's
// exit code, and an error when git could not be run at all. An *os.File
// stdin (the forced command's own) is handed to git as it is; any other
// reader is copied by a goroutine of ours rather than by exec.Cmd, so that
// runGit returns when git exits even though the client has not sent EOF (an
// SSH client waits for the exit status before it does).
func runGit(ctx context.Context, plan *Plan, stdio Stdio) (int, error) {
	cmd := plan.Command(ctx, nil, stdio.Stdout, stdio.Stderr)
	cmd.WaitDelay = waitDelay
	var stdin io.WriteCloser
	if f, ok := stdio.Stdin.(*os.File); ok {
		cmd.Stdin = f
	} else if stdio.Stdin != nil {
		var err error
		if stdin, err = cmd.StdinPipe(); err != nil {
			return 1, err
		}
	}
	if err := cmd.Start(); err != nil {
		return 1, err
	}
	if stdin != nil {
		go func() {
			_, _ = io.Copy(stdin, stdio.Stdin)
			_ = stdin.Close()
		}()
	}
	err := cmd.Wait()
	var exited *exec.ExitError
	if err != nil && !errors.As(err, &exited) {
		return ExitCode(err), err
	}
	return ExitCode(err), nil
}

// Greeting is the one line an interactive login gets.
func Greeting(user string) string {
	return fmt.Sprintf("Hi %s! You have authenticated to gitserver, which does not provide shell access; use git clone/fetch/push.", user)
}

// Refusal is what to tell the client about a refused request (the
// ClientError's message, else MsgUnavailable) and the key-value pairs for
// the operator's log line: decision, error, and what was asked, as parsed
// or, when it did not parse, the raw command (quoted, cut to 200 bytes).
func Refusal(req Request, plan *Plan, err error) (msg string, logArgs []any) {
	msg = MsgUnavailable
	var ce *ClientError
	if errors.As(err, &ce) {
		msg = ce.Msg
	}
	logArgs = []any{"decision", "deny", "error", err}
	if plan != nil && plan.Verb != "" {
		logArgs = append(logArgs, "command", plan.Verb, "repo", plan.Name, "rule", plan.Rule)
		if plan.LFSOp != "" {
			logArgs = append(logArgs, "op", plan.LFSOp)
		}
		return msg, logArgs
	}
	raw := req.Command
	if len(raw) > 200 {
		raw = raw[:200] + "..."
	}
	return msg, append(logArgs, "raw_command", hclog.Quote(raw))
}
