package hooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/gitserver/gitserver/internal/bounded"
	"github.com/gitserver/gitserver/shim"
)

// MaxInput bounds what a hook reads from git: the ref updates of one
// push, one line each.
const MaxInput = 32 << 20

// ReadInput reads a hook's whole input, at most MaxInput bytes.
func ReadInput(r io.Reader) ([]byte, error) {
	return bounded.ReadAll(r, MaxInput, "hooks: input")
}

// Push is what git gives a hook of one push: its environment, input and
// output. git runs hooks in the repository, with GIT_DIR set.
type Push struct {
	// Env is git's environment for the hook (os.Environ() in the hook's
	// process): GITSERVER_USER, GITSERVER_REPO and GITSERVER_KEY from the
	// shim, GIT_DIR and the quarantine variables from git. The commands
	// the hook runs get it whole; nothing in it is the client's.
	Env   []string
	Stdin []byte // the hook's input, read whole (ReadInput)
	// Stdout and Stderr reach the client as "remote:" lines: short,
	// stable messages only, the detail goes to Log.
	Stdout, Stderr io.Writer
	Log            hclog.Logger // the operator's log, named for hooks
}

// getenv looks key up in p.Env, the last one winning as in os.Getenv.
func (p *Push) getenv(key string) string {
	for i := len(p.Env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(p.Env[i], key+"="); ok {
			return v
		}
	}
	return ""
}

// log is p.Log with the push's user, repository and key, for hook name.
func (p *Push) log(name string) hclog.Logger {
	return p.Log.With("hook", name, "user", p.getenv("GITSERVER_USER"), "repo", p.getenv("GITSERVER_REPO"), "key", p.getenv("GITSERVER_KEY"))
}

// Run is a whole run of gitserver's pre-receive hook, as the programs
// that the hook script starts do it: it reads the hook's input from
// stdin, opens the driver with open, finds git (shim.LookGit) and runs
// PreReceive. A failure before the check refuses the push, with the
// detail in the log. It returns the exit code.
func (p *Push) Run(ctx context.Context, stdin io.Reader, open func() (shim.Driver, error)) int {
	fail := func(msg string, err error) int {
		p.log("pre-receive").Error(msg, "error", err)
		fmt.Fprintln(p.Stderr, shim.MsgUnavailable)
		return 1
	}
	var err error
	if p.Stdin, err = ReadInput(stdin); err != nil {
		return fail("hook input unreadable or too large", err)
	}
	d, err := open()
	if err != nil {
		return fail("cannot open driver", err)
	}
	git, err := shim.LookGit()
	if err != nil {
		return fail("git not found", err)
	}
	return p.PreReceive(ctx, d, git)
}

// PreReceive is gitserver's pre-receive hook: it checks every ref update
// against driver d (Check), then runs the repository's own pre-receive
// (Chain). git is the git binary, by absolute path. It returns the exit
// code: anything but 0 refuses the whole push.
func (p *Push) PreReceive(ctx context.Context, d shim.Driver, git string) int {
	if code := p.Check(ctx, d, git); code != 0 {
		return code
	}
	return p.Chain("pre-receive", nil)
}

// model is the pusher's model now: from the key, when the driver can
// check one (so a key removed during the push refuses it, and a deploy
// key, which is no user, has its grant), else from the user.
func model(ctx context.Context, d shim.Driver, user, key string) (shim.UserModel, error) {
	if kc, ok := d.(shim.KeyChecker); ok && key != "" {
		return kc.CheckKey(ctx, user, key)
	}
	return d.GetUserModel(ctx, user)
}

// Check decides every ref update in p.Stdin and returns 0 to let the push
// go on. Any refused update refuses the whole push (git then updates no
// ref); each refusal names its ref and why. An update of a symbolic ref
// is decided on the ref git will change, its target (see refTarget). A
// driver that is not a shim.RefAuthorizer has decided the push as a
// whole already: Check then allows.
func (p *Push) Check(ctx context.Context, d shim.Driver, git string) int {
	c := &checker{Push: p, ctx: ctx, log: p.log("pre-receive"), git: git, repo: p.getenv("GITSERVER_REPO")}
	user := p.getenv("GITSERVER_USER")
	if user == "" || c.repo == "" {
		return c.fail("pre-receive run without GITSERVER_USER and GITSERVER_REPO: not a push through gitserver")
	}
	updates, err := shim.ParseRefUpdates(bytes.NewReader(p.Stdin))
	if err != nil {
		return c.fail("bad pre-receive input", "error", err)
	}
	var ok bool
	if c.ra, ok = d.(shim.RefAuthorizer); !ok {
		c.log.Debug("driver has no per-ref rules; push decided as a whole")
		return 0
	}
	if c.model, err = model(ctx, d, user, p.getenv("GITSERVER_KEY")); err != nil {
		return c.fail("user model", "error", err)
	}
	read, done, err := p.symrefReader(p.gitDir(), git)
	if err != nil {
		return c.fail("cannot read the repository's refs", "error", err)
	}
	defer done()
	c.read = read
	refused := 0
	for _, u := range updates {
		allow, err := c.decide(u)
		if err != nil {
			return c.fail("cannot decide ref update", "ref", hclog.Quote(u.Ref), "error", err)
		}
		if !allow {
			refused++
		}
	}
	if path := p.getenv(shim.EnvReport); path != "" {
		if err := shim.WriteReport(path, shim.RefReport{Refs: len(updates), Refused: refused}); err != nil {
			c.log.Warn("cannot report the decisions to the request line", "error", err)
		}
	}
	if refused > 0 {
		fmt.Fprintf(p.Stderr, "gitserver: push refused: %d of %d ref updates not allowed\n", refused, len(updates))
		return 1
	}
	return 0
}

// checker is one run of Check.
type checker struct {
	*Push
	ctx   context.Context
	log   hclog.Logger
	git   string
	repo  string
	ra    shim.RefAuthorizer
	model shim.UserModel
	read  readSymref
}

// fail logs msg, tells the client the service is unavailable and
// returns 1.
func (c *checker) fail(msg string, args ...any) int {
	c.log.Error(msg, args...)
	fmt.Fprintln(c.Stderr, shim.MsgUnavailable)
	return 1
}

// decide decides update u on the ref it will change, logs the decision,
// and tells the client when it refuses. err is a failure to decide.
func (c *checker) decide(u shim.RefUpdate) (bool, error) {
	target, refusal := c.follow(u)
	name := u.Ref // for the client: the pushed ref, and its target
	if target != u.Ref {
		name += " -> " + target
	}
	if refusal != "" {
		c.logRef(u.Ref, target, "decision", "deny", "why", refusal)
		fmt.Fprintf(c.Stderr, "gitserver: %s: %s; refused\n", name, refusal)
		return false, nil
	}
	op, err := c.classify(c.git, target, u)
	if err != nil {
		return false, err
	}
	dec, err := c.ra.AuthorizeRef(c.ctx, c.model, c.repo, shim.RefUpdate{Old: u.Old, New: u.New, Ref: target, Op: op})
	if err != nil {
		return false, err
	}
	c.logRef(u.Ref, target, "op", opName(op, target), "decision", verdict(dec.Allow), "rule", dec.Rule)
	if !dec.Allow {
		fmt.Fprintf(c.Stderr, "gitserver: %s: %s refused (%s)\n", name, opName(op, target), needs(op, dec.Need))
	}
	return dec.Allow, nil
}

// follow returns the ref that update u will change, or why the check
// refuses to follow u's symbolic refs there.
func (c *checker) follow(u shim.RefUpdate) (target, refusal string) {
	target, refusal, bad, err := refTarget(c.read, u.Ref)
	switch {
	case err != nil:
		c.log.Error("cannot resolve the pushed ref", "ref", hclog.Quote(u.Ref), "error", err)
		return target, "cannot resolve this ref"
	case bad != "":
		c.log.Warn("symbolic ref to a bad name", "ref", hclog.Quote(u.Ref), "symref", hclog.Quote(target), "to", fmt.Sprintf("%.100q", bad))
	case refusal == "" && target != u.Ref && shim.IsZero(u.Old):
		// The client saw no value: the target is missing, and git
		// would create it.
		refusal = "symbolic ref to a ref that does not exist"
	}
	return target, refusal
}

// logRef logs the decision on the pushed ref, with its target when that
// differs.
func (c *checker) logRef(ref, target string, args ...any) {
	args = append([]any{"ref", hclog.Quote(ref)}, args...)
	if target != ref {
		args = append(args, "target", hclog.Quote(target))
	}
	c.log.Info("ref update", args...)
}

// classify finds out what update u of ref (u's target) does. This is
// the one place that decides what a tag needs: as in gitolite, any
// change to an existing tag is a rewind, fast-forward or not, so moving
// a tag needs force (deleting one does anyway), and only creating one
// needs no more than write. For other refs, an update whose old commit
// is a parent of the new one is a fast-forward (isParent reads the new
// commit); otherwise merge-base decides. git runs the hook with the
// pushed objects visible (quarantine variables in its environment, which
// the hook passes on), so both see the new commits.
func (p *Push) classify(git, ref string, u shim.RefUpdate) (shim.RefOp, error) {
	switch {
	case shim.IsZero(u.Old):
		return shim.RefCreate, nil
	case shim.IsZero(u.New):
		return shim.RefDelete, nil
	case isTag(ref):
		return shim.RefRewind, nil
	case p.isParent(u.Old, u.New):
		return shim.RefFastForward, nil
	}
	cmd := exec.Command(git, "merge-base", "--is-ancestor", u.Old, u.New)
	// Without replace refs: a pusher could otherwise push refs/replace/NEW
	// first, a commit whose parent is OLD, and rewind with write access.
	cmd.Env = append(slices.Clip(p.Env), "GIT_NO_REPLACE_OBJECTS=1")
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return shim.RefFastForward, nil
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		return shim.RefRewind, nil
	}
	return 0, err
}

func isTag(ref string) bool { return strings.HasPrefix(ref, "refs/tags/") }

// opName names what an update of ref does, for the client and the log.
func opName(op shim.RefOp, ref string) string {
	if op == shim.RefRewind && isTag(ref) {
		return "tag move"
	}
	return map[shim.RefOp]string{shim.RefCreate: "create", shim.RefFastForward: "update", shim.RefRewind: "non-fast-forward update", shim.RefDelete: "delete"}[op]
}

// needs says what access the refused operation needed: need, the right
// the driver named, or the level it takes.
func needs(op shim.RefOp, need string) string {
	if need != "" {
		return "needs " + need + " access to this ref"
	}
	if op == shim.RefRewind || op == shim.RefDelete {
		return "needs force access to this ref"
	}
	return "needs write access to this ref"
}

func verdict(allow bool) string {
	if allow {
		return "allow"
	}
	return "deny"
}

// gitDir is the repository: GIT_DIR, or "." (git runs hooks in it).
func (p *Push) gitDir() string {
	if d := p.getenv("GIT_DIR"); d != "" {
		return d
	}
	return "."
}

// Chain runs the repository's own hook name, if it is an executable
// file, with args, p's input and environment, and returns its exit code.
// It looks the hook up as the other scripts do (see the package doc).
func (p *Push) Chain(name string, args []string) int {
	path := filepath.Join(p.gitDir(), "hooks", name)
	if !filepath.IsAbs(path) {
		path = "./" + path // never looked up in PATH
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || err == nil && (!fi.Mode().IsRegular() || fi.Mode()&0o111 == 0) {
		return 0
	}
	log := p.log(name)
	if err != nil {
		log.Error("repository hook", "path", path, "error", err)
		return 1
	}
	cmd := exec.Command(path, args...)
	cmd.Env = p.Env // git's, set up for hooks: nothing of the client's
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(p.Stdin), p.Stdout, p.Stderr
	code := shim.ExitCode(cmd.Run())
	log.Debug("repository hook ran", "path", path, "exit", code)
	return code
}
