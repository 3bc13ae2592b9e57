package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/gitserver/gitserver/internal/shell"
	"github.com/gitserver/gitserver/shim"
)

// ShellCmd is sshd's forced command. With --user and --key (the line that
// authorized-keys prints) sshd has matched the key at login, and the
// shell checks again that the key is still the user's; without them
// (ForceCommand with ExposeAuthInfo yes) the keys are read from the file
// sshd names in SSH_USER_AUTH and authenticated here.
type ShellCmd struct {
	User string `help:"User the key belongs to (set by authorized-keys)." placeholder:"NAME"`
	Key  string `help:"Fingerprint of the key that logged in (set by authorized-keys)." placeholder:"SHA256:..."`
}

// Validate checks that --user and --key come together.
func (c *ShellCmd) Validate() error {
	if (c.User == "") != (c.Key == "") {
		return errors.New("--user and --key go together; without both, the key is read from SSH_USER_AUTH (ExposeAuthInfo yes)")
	}
	return nil
}

// Run serves the request (package internal/shell). The client sees only
// short, stable messages; the detail goes to the operator's log.
func (c *ShellCmd) Run(cli *CLI, e *env) error {
	start := time.Now()
	ctx, ready, stop := shell.CatchSignals(e.ctx)
	defer stop()
	a, err := load(cli)
	if err != nil {
		fmt.Fprintln(e.stderr, shim.MsgUnavailable)
		return exitError(1)
	}
	defer a.Close()
	s := &shell.Session{Stdio: shim.Stdio{Stdin: e.stdin, Stdout: e.stdout, Stderr: e.stderr}, Getenv: e.getenv, Start: start, Ready: ready}
	if code := s.Run(ctx, a.App, c.User, c.Key); code != 0 {
		return exitError(code)
	}
	return nil
}
