package shim

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Messages the client sees. They are stable (scripts match on them) and
// say nothing about paths, rules or whether a repository exists.
const (
	MsgDenied      = "gitserver: repository not found or access denied"
	MsgBadCommand  = "gitserver: unsupported command; use git clone, fetch, push or archive with a repository path, or run 'help'"
	MsgBadName     = "gitserver: invalid repository name (letters, digits and ._+@- in /-separated parts, no leading . or -)"
	MsgUnavailable = "gitserver: service unavailable, try again later"
	MsgBadBuiltin  = "gitserver: invalid command; run 'help' for the commands and their arguments"
)

// ClientError is a refusal: Msg goes to the client, Err to the operator's
// log only.
type ClientError struct {
	Msg string
	Err error
}

func (e *ClientError) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *ClientError) Unwrap() error { return e.Err }

// Request is one SSH exec request from an authenticated user.
type Request struct {
	User     string // username the driver authenticated
	Key      string // fingerprint of the key that authenticated
	Command  string // SSH_ORIGINAL_COMMAND, as received
	Protocol string // GIT_PROTOCOL, as received ("" when unset)
}

// Plan is a vetted git invocation: everything needed to run it, and what
// the operator's log should say about it.
type Plan struct {
	Verb string // a Verb constant
	Name string // canonical repository name
	Dir  string // real absolute path of the repository
	Rule string // what the driver said decided
	Argv []string
	Env  []string
	// Builtin is set, with Verb its name and nothing else, when Plan
	// returns ErrBuiltin: the request is a built-in command, not git.
	Builtin *Builtin
}

// Shim turns requests into plans: parse, authorize, resolve.
type Shim struct {
	Driver Driver
	Root   string // repository root; every repository lies inside it
	Git    string // absolute path of the git binary
	Home   string // HOME for git (the ssh user's home)
	// HooksPath returns the hooks directory gitserver owns (see package
	// internal/hooks) for a push to the repository at dir: receive-pack
	// runs with -c core.hooksPath=HooksPath(dir), which no repository
	// config can override, so that its pre-receive hook checks every
	// pushed ref. Nil means receive-pack runs with the repository's own
	// hooks and no per-ref checks.
	HooksPath func(dir string) string
	// Create, when set, creates the repository name at dir for user: a
	// push to a missing repository creates it when the driver implements
	// CreateAuthorizer and allows it. dir's parent lies inside Root.
	Create func(ctx context.Context, name, dir, user string) error
}

// Plan checks req and returns how to run it. A refusal is a *ClientError;
// ErrNoCommand means an interactive login (the caller prints Greeting);
// ErrBuiltin, with a Plan whose Builtin is set, a built-in command, which
// the caller runs itself (the command checks access on its own).
// Authorization comes before any look at the disk, so a denied user learns
// nothing about which repositories exist.
func (s *Shim) Plan(ctx context.Context, req Request) (*Plan, error) {
	if IsBuiltin(req.Command) {
		b, err := ParseBuiltin(req.Command)
		if err != nil {
			return nil, &ClientError{MsgBadBuiltin, err}
		}
		return &Plan{Verb: b.String(), Builtin: &b}, ErrBuiltin
	}
	cmd, err := ParseCommand(req.Command)
	if errors.Is(err, ErrNoCommand) {
		return nil, err
	}
	if err != nil {
		return nil, &ClientError{MsgBadCommand, err}
	}
	name, err := CleanName(cmd.Path)
	if err != nil {
		return nil, &ClientError{MsgBadName, err}
	}
	p := &Plan{Verb: cmd.Verb, Name: name}
	model, err := s.Driver.GetUserModel(ctx, req.User)
	if err != nil {
		return p, &ClientError{MsgDenied, fmt.Errorf("user model: %w", err)}
	}
	dec, err := s.Driver.Authorize(ctx, model, cmd.Verb, cmd.Path)
	p.Rule = dec.Rule
	if err != nil {
		return p, &ClientError{MsgDenied, fmt.Errorf("authorize: %w", err)}
	}
	if !dec.Allow {
		return p, &ClientError{MsgDenied, errors.New("denied by driver")}
	}
	dir, err := s.Driver.RepoPath(ctx, cmd.Path)
	if err != nil {
		return p, &ClientError{MsgDenied, fmt.Errorf("repo path: %w", err)}
	}
	p.Dir, err = s.repoDir(dir)
	if errors.Is(err, fs.ErrNotExist) && cmd.Verb == ReceivePack {
		p.Dir, err = s.createOnPush(ctx, model, cmd.Path, name, dir, req.User)
	}
	if err != nil {
		return p, &ClientError{MsgDenied, err}
	}
	p.Argv = s.argv(cmd.Verb, p.Dir)
	p.Env = Env(s.Home, req, name)
	return p, nil
}

// repoDir checks that dir is a repository inside the root and returns its
// real path.
func (s *Shim) repoDir(dir string) (string, error) {
	if !filepath.IsAbs(dir) {
		return "", fmt.Errorf("driver returned relative repo path %q", dir)
	}
	real, err := Within(s.Root, dir)
	if err != nil {
		return "", err
	}
	// A bare repository has a HEAD file; checking here keeps git's own
	// "does not appear to be a git repository" (with the path) away from
	// the client.
	if fi, err := os.Stat(filepath.Join(real, "HEAD")); err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a bare repository: %w", real, fs.ErrNotExist)
	}
	return real, nil
}

// createOnPush creates the missing repository name at dir when the driver
// allows user to, and returns its real path.
func (s *Shim) createOnPush(ctx context.Context, model UserModel, path, name, dir, user string) (string, error) {
	ca, ok := s.Driver.(CreateAuthorizer)
	if s.Create == nil || !ok {
		return "", fmt.Errorf("%s does not exist: %w", dir, fs.ErrNotExist)
	}
	dec, err := ca.AuthorizeCreate(ctx, model, path)
	if err != nil {
		return "", fmt.Errorf("authorize create: %w", err)
	}
	if !dec.Allow {
		return "", fmt.Errorf("%s does not exist and may not be created (%s): %w", dir, dec.Rule, fs.ErrNotExist)
	}
	if err := s.insideRoot(dir); err != nil {
		return "", err
	}
	if err := s.Create(ctx, name, dir, user); err != nil {
		return "", fmt.Errorf("create on push: %w", err)
	}
	return s.repoDir(dir)
}

// insideRoot checks that the deepest existing ancestor of dir resolves
// inside the root (or is it), so that creating dir cannot escape through
// a symlink.
func (s *Shim) insideRoot(dir string) error {
	d := filepath.Dir(dir)
	for {
		if _, err := os.Lstat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		d = filepath.Dir(d)
	}
	realRoot, err := realPath(s.Root)
	if err != nil {
		return err
	}
	real, err := realPath(d)
	if err != nil {
		return err
	}
	if real != realRoot && !strings.HasPrefix(real, realRoot+string(os.PathSeparator)) {
		return fmt.Errorf("%w: %s is not inside %s", ErrOutsideRoot, real, realRoot)
	}
	return nil
}

// argv is git's command line for verb on dir. Only receive-pack runs
// hooks, so only it gets core.hooksPath.
func (s *Shim) argv(verb, dir string) []string {
	if verb == ReceivePack && s.HooksPath != nil {
		return []string{s.Git, "-c", "core.hooksPath=" + s.HooksPath(dir), verbCommand(verb), dir}
	}
	return []string{s.Git, verbCommand(verb), dir}
}

// verbCommand maps a verb to git's subcommand: "git-upload-pack" runs as
// "git upload-pack", which works whether or not git's exec-path is on PATH.
func verbCommand(verb string) string { return verb[len("git-"):] }

// Greeting is the one line an interactive login gets.
func Greeting(user string) string {
	return fmt.Sprintf("Hi %s! You have authenticated to gitserver, which does not provide shell access; use git clone/fetch/push.", user)
}

// Refusal is what to tell the client about a refused request (the
// ClientError's message, else MsgUnavailable) and the key-value pairs for
// the operator's log line: decision, error, and what was asked, as parsed
// or, when it did not parse, the raw command cut to 200 bytes. shell and
// serve both report refusals through it.
func Refusal(req Request, plan *Plan, err error) (msg string, logArgs []any) {
	msg = MsgUnavailable
	var ce *ClientError
	if errors.As(err, &ce) {
		msg = ce.Msg
	}
	logArgs = []any{"decision", "deny", "error", err}
	if plan != nil {
		return msg, append(logArgs, "command", plan.Verb, "repo", plan.Name, "rule", plan.Rule)
	}
	raw := req.Command
	if len(raw) > 200 {
		raw = raw[:200] + "..."
	}
	return msg, append(logArgs, "raw_command", raw)
}
