package cli

import (
	"fmt"
	"os"

	"github.com/gitserver/gitserver/internal/hooks"
	"github.com/gitserver/gitserver/shim"
)

// HookCmd is what the pre-receive script in gitserver's hooks directory
// runs, inside a push: it checks every ref update against the driver (the
// policy, for the file driver), then runs the repository's own
// pre-receive. See package internal/hooks, which does the work; the front
// binary runs it itself for the file driver. The other hook names only
// run the repository's hook: the scripts of older versions called them,
// until the next push rewrote them.
type HookCmd struct {
	Name string   `arg:"" enum:"pre-receive,update,post-receive,post-update,reference-transaction,push-to-checkout,proc-receive" help:"Hook git runs." placeholder:"NAME"`
	Args []string `arg:"" optional:"" passthrough:"" help:"The hook's arguments, as git gives them."`
}

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
	p := &hooks.Push{Env: os.Environ(), Stdout: e.stdout, Stderr: e.stderr, Log: a.Log.Named("hook")}
	code := 0
	if c.Name == "pre-receive" {
		code = p.Run(e.ctx, e.stdin, a.Driver)
	} else if p.Stdin, err = hooks.ReadInput(e.stdin); err != nil {
		p.Log.Error("hook input unreadable or too large", "hook", c.Name, "error", err)
		fmt.Fprintln(e.stderr, shim.MsgUnavailable)
		code = 1
	} else {
		if c.Name == "post-receive" {
			queueWebhooks(e.ctx, a, p.Log, p.Stdin, e.getenv)
		}
		code = p.Chain(c.Name, c.Args)
	}
	if code != 0 {
		return exitError(code)
	}
	return nil
}
