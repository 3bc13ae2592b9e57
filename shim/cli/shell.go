package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/gitserver/gitserver/internal/builtin"
	"github.com/gitserver/gitserver/internal/shell"
	"github.com/gitserver/gitserver/keys/sshkey"
	"github.com/gitserver/gitserver/shim"
)

// ShellCmd is sshd's forced command. With --user and --key (the line that
// authorized-keys prints) sshd has already matched the key; without them
// (ForceCommand with ExposeAuthInfo yes) the key is read from the file
// sshd names in SSH_USER_AUTH and looked up here.
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

// Run checks the request and runs git (package internal/shell, which the
// front binary also runs). The client sees only short, stable messages;
// the detail goes to the operator's log.
func (c *ShellCmd) Run(cli *CLI, e *env) error {
	start := time.Now()
	a, err := load(cli)
	if err != nil {
		fmt.Fprintln(e.stderr, shim.MsgUnavailable)
		return exitError(1)
	}
	defer a.Close()
	s := &shell.Session{
		Stdin: e.stdin, Stdout: e.stdout, Stderr: e.stderr, Getenv: e.getenv, Start: start,
		Identify: func(ctx context.Context, d shim.Driver) (string, string, error) {
			return userFromAuthInfo(e, d, a.Cfg.SSHUser)
		},
		Builtin: func(ctx context.Context, log hclog.Logger, s *shim.Shim, req shim.Request, plan *shim.Plan) int {
			code, err := builtin.Run(ctx, builtin.Env{Driver: s.Driver, Root: s.Root, Req: req, Cmd: *plan.Builtin,
				Stdin: e.stdin, Stdout: e.stdout, Stderr: e.stderr})
			log.Info("request", append(builtin.LogArgs(*plan.Builtin, code, err), "duration", time.Since(start))...)
			return code
		},
	}
	if code := s.Run(e.ctx, a.App, c.User, c.Key); code != 0 {
		return exitError(code)
	}
	return nil
}

// userFromAuthInfo authenticates the keys sshd recorded in SSH_USER_AUTH.
// Every key listed there was proven; they must all belong to one user.
func userFromAuthInfo(e *env, d shim.Driver, login string) (user, fp string, err error) {
	path := e.getenv("SSH_USER_AUTH")
	if path == "" {
		return "", "", errors.New("SSH_USER_AUTH is not set; use the authorized-keys line or set ExposeAuthInfo yes")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	offered, err := shim.ParseAuthInfo(f)
	if err != nil {
		return "", "", err
	}
	for _, o := range offered {
		k, err := sshkey.ParseKey(o.Type, o.Base64)
		if err != nil {
			return "", "", err
		}
		u, err := d.Authenticate(e.ctx, shim.Credentials{LoginUser: login, KeyType: k.Type, Key: k.Blob, Fingerprint: k.Fingerprint})
		if err != nil {
			return "", "", fmt.Errorf("key %s: %w", k.Fingerprint, err)
		}
		if user != "" && u != user {
			return "", "", fmt.Errorf("keys of two users (%s, %s) in one login", user, u)
		}
		user, fp = u, k.Fingerprint
	}
	return user, fp, nil
}
