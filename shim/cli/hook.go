package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/hashicorp/go-hclog"

	"github.com/gitserver/gitserver/shim"
)

// HookCmd is what the scripts in gitserver's hooks directory run, inside
// a push: pre-receive checks every ref update against the driver (the
// policy, for the file driver), and every hook then runs the repository's
// own hook of the same name. See package internal/hooks.
type HookCmd struct {
	Name string   `arg:"" enum:"pre-receive,update,post-receive,post-update,reference-transaction,push-to-checkout,proc-receive" help:"Hook git runs." placeholder:"NAME"`
	Args []string `arg:"" optional:"" passthrough:"" help:"The hook's arguments, as git gives them."`
}

// maxHookInput bounds what pre-receive reads from git.
const maxHookInput = 32 << 20

// Run checks (pre-receive only) and chains. Its stderr reaches the
// client as "remote:" lines: short messages only, the detail is logged.
func (c *HookCmd) Run(cli *CLI, e *env) error {
	// loadConfig, not load: under serve, ssh_user is only a login name.
	a, err := loadConfig(cli)
	if err != nil {
		fmt.Fprintln(e.stderr, shim.MsgUnavailable)
		return exitError(1)
	}
	defer a.Close()
	log := a.Log.Named("hook").With("hook", c.Name, "user", hclog.Quote(e.getenv("GITSERVER_USER")),
		"repo", hclog.Quote(e.getenv("GITSERVER_REPO")), "key", hclog.Quote(e.getenv("GITSERVER_KEY")))
	stdin, err := io.ReadAll(io.LimitReader(e.stdin, maxHookInput+1))
	if err != nil || len(stdin) > maxHookInput {
		log.Error("hook input unreadable or too large", "error", err, "bytes", len(stdin))
		fmt.Fprintln(e.stderr, shim.MsgUnavailable)
		return exitError(1)
	}
	if c.Name == "pre-receive" {
		if code := checkPush(a, e, log, stdin); code != 0 {
			return exitError(code)
		}
	}
	if code := chainHook(e, log, c.Name, c.Args, stdin); code != 0 {
		return exitError(code)
	}
	return nil
}

// checkPush decides every ref update in stdin and returns 0 to let the
// push go on. Any refused update refuses the whole push (git then
// updates no ref); each refusal names its ref and why.
func checkPush(a *app, e *env, log hclog.Logger, stdin []byte) int {
	user, repo := e.getenv("GITSERVER_USER"), e.getenv("GITSERVER_REPO")
	fail := func(msg string, args ...any) int {
		log.Error(msg, args...)
		fmt.Fprintln(e.stderr, shim.MsgUnavailable)
		return 1
	}
	if user == "" || repo == "" {
		return fail("pre-receive run without GITSERVER_USER and GITSERVER_REPO: not a push through gitserver")
	}
	updates, err := shim.ParseRefUpdates(bytes.NewReader(stdin))
	if err != nil {
		return fail("bad pre-receive input", "error", err)
	}
	d, err := a.Driver()
	if err != nil {
		return fail("cannot open driver", "error", err)
	}
	ra, ok := d.(shim.RefAuthorizer)
	if !ok {
		log.Debug("driver has no per-ref rules; push decided as a whole")
		return 0
	}
	model, err := d.GetUserModel(e.ctx, user)
	if err != nil {
		return fail("user model", "error", err)
	}
	git, err := shim.LookGit()
	if err != nil {
		return fail("git not found", "error", err)
	}
	refused := 0
	for _, u := range updates {
		if u.Op, err = classify(git, u); err != nil {
			return fail("cannot classify ref update", "ref", hclog.Quote(u.Ref), "error", err)
		}
		dec, err := ra.AuthorizeRef(e.ctx, model, repo, u)
		if err != nil {
			return fail("authorize ref", "ref", hclog.Quote(u.Ref), "error", err)
		}
		log.Info("ref update", "ref", hclog.Quote(u.Ref), "op", opName(u.Op), "decision", verdict(dec.Allow), "rule", dec.Rule)
		if !dec.Allow {
			refused++
			fmt.Fprintf(e.stderr, "gitserver: %s: %s refused (%s)\n", u.Ref, opName(u.Op), needs(u.Op))
		}
	}
	if refused > 0 {
		fmt.Fprintf(e.stderr, "gitserver: push refused: %d of %d ref updates not allowed\n", refused, len(updates))
		return 1
	}
	return 0
}

// classify finds out what an update does. git runs the hook with the
// pushed objects visible (quarantine variables in its environment, which
// the hook inherits), so merge-base sees the new commits.
func classify(git string, u shim.RefUpdate) (shim.RefOp, error) {
	switch {
	case shim.IsZero(u.Old):
		return shim.RefCreate, nil
	case shim.IsZero(u.New):
		return shim.RefDelete, nil
	}
	err := exec.Command(git, "merge-base", "--is-ancestor", u.Old, u.New).Run()
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

// chainHook runs the repository's own hook name, if it is an executable
// file, with the same arguments and input, and returns its exit code.
func chainHook(e *env, log hclog.Logger, name string, args []string, stdin []byte) int {
	gitDir := e.getenv("GIT_DIR")
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
	if err != nil {
		log.Error("repository hook", "path", path, "error", err)
		return 1
	}
	cmd := exec.Command(path, args...)
	cmd.Env = os.Environ() // git's, set up for hooks: nothing of the client's
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(stdin), e.stdout, e.stderr
	code := shim.ExitCode(cmd.Run())
	log.Debug("repository hook ran", "path", path, "exit", code)
	return code
}
