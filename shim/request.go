package shim

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// Messages the client sees. They are stable (scripts match on them) and
// say nothing about paths, rules or whether a repository exists.
const (
	MsgDenied      = "gitserver: repository not found or access denied"
	MsgBadCommand  = "gitserver: unsupported command; use git clone, fetch, push or archive with a repository path, or run 'help'"
	MsgBadName     = "gitserver: invalid repository name (letters, digits and ._+@- in /-separated parts, no leading . or -)"
	MsgUnavailable = "gitserver: service unavailable, try again later"
	MsgBadBuiltin  = "gitserver: invalid command; run 'help' for the commands and their arguments"
	// MsgLFSAuthenticate answers git-lfs-authenticate, which git-lfs
	// runs to find an HTTP LFS server: there is none, LFS is served
	// over SSH.
	MsgLFSAuthenticate = "gitserver: no HTTP LFS server here; Git LFS is served over SSH (git-lfs-transfer, git-lfs 3.0 or newer)"
	// MsgArchived refuses a write to an archived repository.
	MsgArchived = "gitserver: repository is archived (read-only)"
	// MsgLFSOff answers git-lfs-transfer where [lfs] is turned off.
	MsgLFSOff = "gitserver: Git LFS is not enabled on this server"
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

// Request is one SSH exec request from an authenticated client: one run
// of sshd's forced command, or one session channel of serve's listener.
// Who sent it is decided again for every request (see Shim.Plan): what
// was true when the connection authenticated may not be now.
type Request struct {
	User string // username the driver authenticated ("" when Credentials say)
	Key  string // fingerprint of the key that authenticated
	// Credentials, when the transport has them (serve's listener, or
	// sshd's ExposeAuthInfo), are the keys the client proved; Plan asks
	// the driver about each of them again (Authenticate). Without them,
	// Plan asks a KeyChecker driver whether Key is still User's.
	Credentials []Credentials
	Command     string // SSH_ORIGINAL_COMMAND, as received
	Protocol    string // GIT_PROTOCOL, as received ("" when unset)
	Client      string // the client's address, for the log ("" when unknown)
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
	// Builtin is set, with Verb its name, User, Key and Model, when Plan
	// returns ErrBuiltin: the request is a built-in command, not git.
	Builtin *Builtin
	// User and Key are who the request is from, as Plan established it.
	User, Key string
	// Model is the driver's model of User, for built-in commands.
	Model UserModel
	// LFSOp is the operation of an LFSTransfer, LFSUpload or
	// LFSDownload: Serve runs the transfer in-process, not git.
	LFSOp string
}

// Shim turns requests into plans (parse, identify, authorize, resolve)
// and carries them out (Serve). It is the one request path: 'gitserver
// shell' behind sshd and serve's listener both hand every request to it.
type Shim struct {
	Driver Driver
	Root   string // repository root; every repository lies inside it
	Git    string // absolute path of the git binary
	Home   string // HOME for git (the ssh user's home)
	// Hooks returns the hooks directory gitserver owns (see package
	// internal/hooks) for a push to the repository name at dir:
	// receive-pack runs with -c core.hooksPath=Hooks(name, dir), which no
	// repository config can override, so that its pre-receive hook checks
	// every pushed ref. Plan calls it only for a push, so that reads never
	// pay for it; an error refuses the push. Nil means receive-pack runs
	// with the repository's own hooks and no per-ref checks.
	Hooks func(name, dir string) (string, error)
	// Create, when set, creates the repository name at dir for user: a
	// push to a missing repository creates it when the driver implements
	// CreateAuthorizer and allows it. dir's parent lies inside Root.
	Create func(ctx context.Context, name, dir, user string) error
	// Builtin runs a built-in command that Plan vetted (see Serve); nil
	// refuses them all as unsupported.
	Builtin BuiltinFunc
	// ReadOnly, when set, says whether the repository at dir (which may
	// not exist yet) takes writes: "" when it does, else the message
	// for the client (an archived repository, a server in read-only
	// mode); an error refuses the write too. Plan asks it for pushes and
	// LFS uploads, after authorization.
	ReadOnly func(dir string) (msg string, err error)
	// LFS serves Git LFS (LFSTransfer) with these settings; nil refuses
	// it (MsgLFSOff).
	LFS *LFSConfig
	// Log gets one "request" line per request served, and errors.
	Log hclog.Logger
	// Observe, when set, is told each request's Summary, for metrics.
	// It must not block. Serve then counts the bytes on stdin and stdout,
	// and hands git a pipe instead of an *os.File stdin (so set it under
	// serve, not behind sshd).
	Observe func(Summary)
	// Ready, when set, is called before a request acts: before Create,
	// git, git-lfs-transfer or a built-in command starts, never for a
	// refusal. The shell waits there for its signal handlers, which it
	// installs in the background (see package internal/shell).
	Ready func()
}

func (s *Shim) ready() {
	if s.Ready != nil {
		s.Ready()
	}
}

// Plan checks req and returns how to run it, in this order: who sent it
// (the key must still be the user's, and the user must still exist: the
// driver's user model; see identify), what it asks (parsed strictly),
// whether they may (Authorize), and where the repository is. A refusal is
// a *ClientError; ErrNoCommand means an interactive login (the caller
// prints Greeting); ErrBuiltin, with a Plan whose Builtin is set, a
// built-in command, vetted like a git command up to the user model, which
// Serve runs with the Builtin hook. Authorization comes before any look at
// the disk, so a denied user learns nothing about which repositories
// exist.
func (s *Shim) Plan(ctx context.Context, req Request) (*Plan, error) {
	user, key, model, err := s.identify(ctx, req)
	if err != nil {
		return nil, &ClientError{MsgDenied, err}
	}
	p := &Plan{User: user, Key: key, Model: model}
	cmd, err := parse(p, req.Command)
	if err != nil {
		return p, err
	}
	switch {
	case cmd.Verb == LFSAuthenticate:
		return p, &ClientError{MsgLFSAuthenticate, errors.New("git-lfs-authenticate: there is no HTTP LFS server")}
	case cmd.Verb == LFSTransfer && s.LFS == nil:
		return p, &ClientError{MsgLFSOff, errors.New("git-lfs-transfer: LFS is turned off")}
	}
	verb := authVerb(cmd)
	out := s.Decide(ctx, model, verb, cmd.Path)
	p.Rule = out.Rule
	if !out.Allow {
		return p, &ClientError{MsgDenied, out.Err}
	}
	p.Dir = out.Dir
	if verb == ReceivePack && s.ReadOnly != nil {
		msg, err := s.ReadOnly(out.Dir)
		switch {
		case err != nil:
			return p, &ClientError{MsgUnavailable, fmt.Errorf("cannot tell whether the repository takes writes: %w", err)}
		case msg != "":
			return p, &ClientError{msg, errors.New("writes refused")}
		}
	}
	if out.Create && cmd.Verb == LFSTransfer {
		// git push creates a repository (its receive-pack connection
		// comes before git-lfs's pre-push uploads); LFS never does.
		return p, &ClientError{MsgDenied, fmt.Errorf("%s does not exist: %w", out.Dir, fs.ErrNotExist)}
	}
	if cmd.Verb == LFSTransfer {
		return p, nil
	}
	created := false
	if out.Create {
		s.ready()
		err := s.Create(ctx, p.Name, out.Dir, user)
		created = err == nil
		if errors.Is(err, fs.ErrExist) {
			// Another request, here or on another frontend sharing the
			// repos root, created it first: this push is now a push to
			// that repository, and is decided as one.
			out = s.Decide(ctx, model, verb, cmd.Path)
			p.Rule = out.Rule
			if !out.Allow || out.Create {
				return p, &ClientError{MsgDenied, errors.Join(errors.New("created by another request first"), out.Err)}
			}
		} else if err != nil {
			return p, &ClientError{MsgDenied, fmt.Errorf("create on push: %w", err)}
		}
		if p.Dir, err = s.repoDir(out.Dir); err != nil {
			return p, &ClientError{MsgDenied, err}
		}
	}
	hooks, err := s.hooksPath(cmd.Verb, p.Name, p.Dir)
	if err != nil {
		return p, &ClientError{MsgUnavailable, fmt.Errorf("hooks directory (pushes are refused until it can be written): %w", err)}
	}
	p.Argv = s.argv(cmd.Verb, p.Dir, hooks)
	p.Env = Env(s.Home, user, key, req.Protocol, p.Name)
	if created {
		// For the post-receive hook's repo_create event.
		p.Env = append(p.Env, EnvCreated+"=1")
	}
	return p, nil
}

// EnvCreated is set, to 1, in a push's environment when the push created
// the repository.
const EnvCreated = "GITSERVER_CREATED"

// parse reads command into p: a built-in command (ErrBuiltin, with
// p.Builtin set), an interactive login (ErrNoCommand), or a git command
// and its repository's name; anything else is a *ClientError.
func parse(p *Plan, command string) (Command, error) {
	if IsBuiltin(command) {
		b, err := ParseBuiltin(command)
		if err != nil {
			return Command{}, &ClientError{MsgBadBuiltin, err}
		}
		p.Verb, p.Builtin = b.String(), &b
		return Command{}, ErrBuiltin
	}
	cmd, err := ParseCommand(command)
	switch {
	case errors.Is(err, ErrNoCommand):
		return cmd, err
	case err != nil:
		return cmd, &ClientError{MsgBadCommand, err}
	}
	if p.Name, err = CleanName(cmd.Path); err != nil {
		return cmd, &ClientError{MsgBadName, err}
	}
	p.Verb, p.LFSOp = cmd.Verb, cmd.Op
	return cmd, nil
}

// authVerb is the git command a request is authorized as: an LFS
// download needs what a fetch needs (read), an upload what a push needs
// (write), so every driver decides LFS by the rules it has for git.
func authVerb(cmd Command) string {
	if cmd.Verb != LFSTransfer {
		return cmd.Verb
	}
	if cmd.Op == LFSUpload {
		return ReceivePack
	}
	return UploadPack
}

// hooksPath is the hooks directory receive-pack runs with on the
// repository name at dir; other verbs run no hooks.
func (s *Shim) hooksPath(verb, name, dir string) (string, error) {
	if verb != ReceivePack || s.Hooks == nil {
		return "", nil
	}
	return s.Hooks(name, dir)
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

// Outcome is what the pipeline decides about one git request before it
// acts on it: Plan carries it out, and 'gitserver access' prints it.
type Outcome struct {
	Allow bool
	// Rule is what decided: Authorize's rule, or AuthorizeCreate's for a
	// push to a missing repository.
	Rule string
	// Dir is the repository's real path or, when Create, where the push
	// will create it.
	Dir string
	// Missing is set when the repository does not exist; Create when it
	// is missing and the push may create it.
	Missing, Create bool
	// Err says why not, for the operator's log (never the client); nil
	// when Allow.
	Err error
}

// Decide decides what a git request (verb on the repository path) by
// model meets, without acting on it: Authorize first, so that a denied
// user learns nothing about which repositories exist; then the
// repository must exist inside Root, except that a push to a missing one
// may create it when the driver is a CreateAuthorizer that allows it. A
// fetch of a missing repository is refused: repositories are created by
// pushing, never by reading.
func (s *Shim) Decide(ctx context.Context, model UserModel, verb, path string) Outcome {
	dec, err := s.Driver.Authorize(ctx, model, verb, path)
	if err != nil {
		return Outcome{Rule: dec.Rule, Err: fmt.Errorf("authorize: %w", err)}
	}
	if !dec.Allow {
		return Outcome{Rule: dec.Rule, Err: errors.New("denied by driver")}
	}
	dir, err := s.Driver.RepoPath(ctx, path)
	if err != nil {
		return Outcome{Rule: dec.Rule, Err: fmt.Errorf("repo path: %w", err)}
	}
	real, err := s.repoDir(dir)
	switch {
	case err == nil:
		return Outcome{Allow: true, Rule: dec.Rule, Dir: real}
	case !errors.Is(err, fs.ErrNotExist):
		return Outcome{Rule: dec.Rule, Err: err}
	case verb != ReceivePack:
		return Outcome{Rule: dec.Rule, Missing: true, Err: err}
	}
	out := s.mayCreate(ctx, model, path, dir)
	out.Missing = true
	return out
}

// mayCreate decides whether a push may create the missing repository
// path at dir.
func (s *Shim) mayCreate(ctx context.Context, model UserModel, path, dir string) Outcome {
	ca, ok := s.Driver.(CreateAuthorizer)
	if s.Create == nil || !ok {
		return Outcome{Err: fmt.Errorf("%s does not exist: %w", dir, fs.ErrNotExist)}
	}
	dec, err := ca.AuthorizeCreate(ctx, model, path)
	if err != nil {
		return Outcome{Rule: dec.Rule, Err: fmt.Errorf("authorize create: %w", err)}
	}
	if !dec.Allow {
		return Outcome{Rule: dec.Rule, Err: fmt.Errorf("%s does not exist and may not be created (%s): %w", dir, dec.Rule, fs.ErrNotExist)}
	}
	if err := s.insideRoot(dir); err != nil {
		return Outcome{Rule: dec.Rule, Err: err}
	}
	return Outcome{Allow: true, Rule: dec.Rule, Dir: dir, Create: true}
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
func (s *Shim) argv(verb, dir, hooks string) []string {
	if verb == ReceivePack && hooks != "" {
		return []string{s.Git, "-c", "core.hooksPath=" + hooks, verbCommand(verb), dir}
	}
	return []string{s.Git, verbCommand(verb), dir}
}

// verbCommand maps a verb to git's subcommand: "git-upload-pack" runs as
// "git upload-pack", which works whether or not git's exec-path is on PATH.
func verbCommand(verb string) string { return verb[len("git-"):] }
