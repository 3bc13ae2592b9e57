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
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/gitserver/gitserver/shim"
)

// MaxInput bounds what a hook reads from git: the ref updates of one
// push, one line each.
const MaxInput = 32 << 20

// ReadInput reads a hook's whole input, at most MaxInput bytes.
func ReadInput(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxInput+1))
	if err == nil && len(b) > MaxInput {
		err = fmt.Errorf("hooks: input larger than %d bytes", MaxInput)
	}
	return b, err
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

// Check decides every ref update in p.Stdin and returns 0 to let the push
// go on. Any refused update refuses the whole push (git then updates no
// ref); each refusal names its ref and why. A driver that is not a
// shim.RefAuthorizer has decided the push as a whole already: Check
// then allows.
func (p *Push) Check(ctx context.Context, d shim.Driver, git string) int {
	log := p.log("pre-receive")
	user, repo := p.getenv("GITSERVER_USER"), p.getenv("GITSERVER_REPO")
	fail := func(msg string, args ...any) int {
		log.Error(msg, args...)
		fmt.Fprintln(p.Stderr, shim.MsgUnavailable)
		return 1
	}
	if user == "" || repo == "" {
		return fail("pre-receive run without GITSERVER_USER and GITSERVER_REPO: not a push through gitserver")
	}
	updates, err := shim.ParseRefUpdates(bytes.NewReader(p.Stdin))
	if err != nil {
		return fail("bad pre-receive input", "error", err)
	}
	ra, ok := d.(shim.RefAuthorizer)
	if !ok {
		log.Debug("driver has no per-ref rules; push decided as a whole")
		return 0
	}
	model, err := d.GetUserModel(ctx, user)
	if err != nil {
		return fail("user model", "error", err)
	}
	refused := 0
	for _, u := range updates {
		if u.Op, err = p.classify(git, u); err != nil {
			return fail("cannot classify ref update", "ref", u.Ref, "error", err)
		}
		dec, err := ra.AuthorizeRef(ctx, model, repo, u)
		if err != nil {
			return fail("authorize ref", "ref", u.Ref, "error", err)
		}
		log.Info("ref update", "ref", u.Ref, "op", opName(u.Op), "decision", verdict(dec.Allow), "rule", dec.Rule)
		if !dec.Allow {
			refused++
			fmt.Fprintf(p.Stderr, "gitserver: %s: %s refused (%s)\n", u.Ref, opName(u.Op), needs(u.Op))
		}
	}
	if refused > 0 {
		fmt.Fprintf(p.Stderr, "gitserver: push refused: %d of %d ref updates not allowed\n", refused, len(updates))
		return 1
	}
	return 0
}

// classify finds out what an update does. git runs the hook with the
// pushed objects visible (quarantine variables in its environment, which
// the hook passes on), so merge-base sees the new commits.
func (p *Push) classify(git string, u shim.RefUpdate) (shim.RefOp, error) {
	switch {
	case shim.IsZero(u.Old):
		return shim.RefCreate, nil
	case shim.IsZero(u.New):
		return shim.RefDelete, nil
	}
	cmd := exec.Command(git, "merge-base", "--is-ancestor", u.Old, u.New)
	cmd.Env = p.Env
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

func opName(op shim.RefOp) string {
	return map[shim.RefOp]string{shim.RefCreate: "create", shim.RefFastForward: "update", shim.RefRewind: "non-fast-forward update", shim.RefDelete: "delete"}[op]
}

// needs says what access the refused operation needed.
func needs(op shim.RefOp) string {
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

// Chain runs the repository's own hook name, if it is an executable
// file, with args, p's input and environment, and returns its exit code.
// It looks the hook up as the other scripts do (see the package doc).
func (p *Push) Chain(name string, args []string) int {
	gitDir := p.getenv("GIT_DIR")
	if gitDir == "" {
		gitDir = "."
	}
	path := filepath.Join(gitDir, "hooks", name)
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
