// Package shell runs sshd's forced command for a user whose key sshd has
// matched: it checks SSH_ORIGINAL_COMMAND against the driver and runs git,
// or a built-in command, on the process's stdio. The SSH client sees only
// short, stable messages on stderr; the detail goes to the operator's log.
//
// Like internal/authkeys it links no command-line parser and no SSH
// implementation: the front binary sshd starts (cmd/gitserver) runs it
// directly for the file driver, once per login.
package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/shim"
)

// Session is one run of the forced command.
type Session struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string // the environment sshd set
	Start          time.Time           // when the process started, for the log

	// Identify finds the user when the forced command names none
	// (ForceCommand with ExposeAuthInfo); nil refuses such logins.
	Identify func(ctx context.Context, d shim.Driver) (user, key string, err error)
	// Builtin runs a built-in command (help, info, keys...) that the
	// request named, logs it, and returns the exit code.
	Builtin func(ctx context.Context, log hclog.Logger, s *shim.Shim, req shim.Request, plan *shim.Plan) int
}

// Run serves the request of user (with the key of fingerprint key; both
// empty for Identify to find) with a's config and driver, and returns the
// exit code.
func (s *Session) Run(ctx context.Context, a *setup.App, user, key string) int {
	log := a.Log.Named("shell")
	d, err := a.Driver()
	if err != nil {
		log.Error("cannot open driver", "error", err)
		return s.fail(shim.MsgUnavailable)
	}
	req := shim.Request{User: user, Key: key, Command: s.Getenv("SSH_ORIGINAL_COMMAND"), Protocol: s.Getenv("GIT_PROTOCOL")}
	if req.User == "" {
		if s.Identify == nil {
			err = errors.New("no user named and no way to find one")
		} else {
			req.User, req.Key, err = s.Identify(ctx, d)
		}
		if err != nil {
			log.Warn("no usable key in SSH_USER_AUTH", "error", err)
			return s.fail(shim.MsgDenied)
		}
	}
	log = log.With("user", req.User, "key", req.Key, "client", ClientAddr(s.Getenv("SSH_CONNECTION")))
	git, err := shim.LookGit()
	if err != nil {
		log.Error("git not found", "error", err)
		return s.fail(shim.MsgUnavailable)
	}
	sh := &shim.Shim{Driver: d, Root: a.Cfg.Repos, Git: git, Home: a.Owner.Home, Create: a.CreateOnPush(git)}
	if strings.Contains(req.Command, "receive-pack") {
		// Only a push runs hooks; reads do not pay for the check.
		if sh.HooksPath, err = a.HooksPath(); err != nil {
			log.Error("cannot set up the hooks directory; pushes are refused", "error", err)
			return s.fail(shim.MsgUnavailable)
		}
	}
	plan, err := sh.Plan(ctx, req)
	if errors.Is(err, shim.ErrNoCommand) {
		log.Info("interactive login refused")
		return s.fail(shim.Greeting(req.User))
	}
	if errors.Is(err, shim.ErrBuiltin) {
		return s.Builtin(ctx, log, sh, req, plan)
	}
	if err != nil {
		msg, args := shim.Refusal(req, plan, err)
		log.Info("request", append(args, "exit", 1, "duration", time.Since(s.Start))...)
		return s.fail(msg)
	}
	code := s.runGit(ctx, plan)
	log.Info("request", "command", plan.Verb, "repo", plan.Name, "decision", "allow",
		"rule", plan.Rule, "exit", code, "duration", time.Since(s.Start))
	return code
}

// fail tells the client msg and returns exit code 1.
func (s *Session) fail(msg string) int {
	fmt.Fprintln(s.Stderr, msg)
	return 1
}

// runGit runs the plan on the session's stdio and relays the signals sshd
// sends when the client goes away.
func (s *Session) runGit(ctx context.Context, plan *shim.Plan) int {
	cmd := plan.Command(ctx, s.Stdin, s.Stdout, s.Stderr)
	if err := cmd.Start(); err != nil {
		return shim.ExitCode(err)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	go shim.Forward(cmd.Process, sigs)
	err := cmd.Wait()
	signal.Stop(sigs)
	close(sigs)
	return shim.ExitCode(err)
}

// ClientAddr is the client's address from sshd's SSH_CONNECTION, for the
// log: "IP:PORT", or "[IP]:PORT" for IPv6; empty when that is not
// "IP PORT IP PORT".
func ClientAddr(conn string) string {
	var ip, port string
	if _, err := fmt.Sscan(conn, &ip, &port); err != nil {
		return ""
	}
	if strings.Contains(ip, ":") {
		ip = "[" + ip + "]"
	}
	return ip + ":" + port
}
