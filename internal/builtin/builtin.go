// Package builtin runs gitserver's built-in SSH commands (help, whoami,
// info, keys, set-head, perms), the same for 'gitserver shell' behind
// sshd and for the built-in server. The request pipeline
// (shim.Shim.Serve) recognises and parses them, checks who asks exactly
// as for git, and runs them with Run, its shim.BuiltinFunc.
//
// # Security
//
// The user is the one the driver authenticated; nothing the client sends
// changes it. Commands that read the policy or the key store need a
// driver that implements Backend (the file driver); other drivers answer
// "not supported". "keys ... --user NAME" for a NAME other than one's own
// needs Policy.IsAdmin. A user may only ever remove their own keys
// (keys.Store.RemoveOwn, one transaction) and not their last one, so that
// nobody locks themselves out by accident. set-head needs
// Policy.IsAdmin.
//
// perms lists or changes a repository's role members
// (filedriver.AddRoleMember) and needs the repository's recorded creator
// or Policy.IsAdmin. A repository that does not exist and one the user
// may not manage get the same answer, so perms tells nobody which
// repositories exist. It adds and removes members only in roles the
// policy declares. A change decides the member's next request, also on
// an SSH connection that is already open, since the file driver reads
// the roles on every request.
//
// Messages to the client never hold paths or rules, nor other users'
// names except the role members perms shows to whoever manages the
// repository; the returned error is for the operator's log.
package builtin

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/policy"
	"github.com/gitserver/gitserver/shim"
)

// Backend is what the commands need from a driver besides shim.Driver:
// the policy and the key store. It is optional; the file driver has it.
type Backend interface {
	Policy() (*policy.Policy, error)
	KeyStore() *keys.Store
}

// Messages the client sees.
const (
	MsgUnsupported = "gitserver: this command is not available on this server"
	MsgNotAdmin    = "gitserver: permission denied (--user needs admin access)"
	// MsgDeployKey answers any built-in but whoami from a deploy key.
	MsgDeployKey = "gitserver: a deploy key can only run git and whoami"
)

// Env is one built-in command to run and what it runs with, as the
// request pipeline vetted it (shim.Shim.Plan: the key is still the
// user's, the user still exists). Driver is a Backend for most commands.
type Env = shim.BuiltinCall

// Run runs e.Cmd and returns its exit code and, when it refused or
// failed, an error with the detail for the operator's log. The client
// has already been told, briefly, on e.Stderr. It is a shim.BuiltinFunc.
func Run(ctx context.Context, e Env) (int, error) {
	var err error
	_, title, deploy := filedriver.DeployKey(e.Model)
	switch {
	case deploy && e.Cmd.Name == shim.BuiltinWhoami:
		_, err = fmt.Fprintf(e.Stdout, "deploy key %s\nkey  %s\n", title, e.Key)
	case deploy:
		err = fail(e, MsgDeployKey, fmt.Errorf("%s from a deploy key", e.Cmd.Name))
	default:
		err = run(ctx, e)
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}

// run runs a person's built-in command.
func run(ctx context.Context, e Env) error {
	var err error
	switch e.Cmd.Name {
	case shim.BuiltinHelp:
		_, err = io.WriteString(e.Stdout, Help)
	case shim.BuiltinWhoami:
		_, err = fmt.Fprintf(e.Stdout, "user %s\nkey  %s\n", e.User, e.Key)
		if err == nil && e.Client != "" {
			_, err = fmt.Fprintf(e.Stdout, "from %s\n", e.Client)
		}
	case shim.BuiltinInfo:
		err = info(ctx, e)
	case shim.BuiltinKeys:
		err = keysCmd(e)
	case shim.BuiltinSetHead:
		err = setHead(ctx, e)
	case shim.BuiltinPerms:
		err = perms(ctx, e)
	default:
		err = fail(e, shim.MsgBadBuiltin, fmt.Errorf("unknown built-in %q", e.Cmd.Name))
	}
	return err
}

// Help is the text of "help".
const Help = `gitserver commands (ssh git@HOST COMMAND):
  info [PATTERN]                  repositories you can reach: R read, W write,
                                  F force (rewind, delete), C create by pushing;
                                  PATTERN is a glob such as 'team/*' or 'team/**'
  whoami                          your user name, the key you logged in with
                                  and the address you came from
  keys list [--user NAME]         list your keys
  keys add [--user NAME]          add the key lines read from stdin (all or nothing)
  keys remove [--user NAME] FP    remove one of your keys (not your last one)
  set-head REPO BRANCH            point REPO's HEAD (what a clone checks out)
                                  at an existing BRANCH; needs admin access
  perms REPO [-l]                 list who holds which role in REPO: ROLE MEMBER
  perms REPO -lr                  list the roles this server declares
  perms REPO + ROLE MEMBER        add MEMBER (a user, @group or @all) to ROLE
  perms REPO - ROLE MEMBER        remove MEMBER from ROLE
                                  perms needs REPO's creator or admin access
  help                            this text
--user NAME acts on NAME's keys and needs admin access.
git clone, fetch, push and archive work with a repository path, e.g.
  git clone git@HOST:team/project.git
`

// clientError is a refusal: msg was shown to the client, err is for the
// operator.
type clientError struct {
	msg string
	err error
}

func (e *clientError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *clientError) Unwrap() error { return e.err }

// fail tells the client msg and returns err, with msg, for the log.
func fail(e Env, msg string, err error) error {
	fmt.Fprintln(e.Stderr, msg)
	return &clientError{msg, err}
}

// backend returns the driver's Backend and its policy, or tells the
// client the command is not available.
func backend(e Env) (Backend, *policy.Policy, error) {
	b, ok := e.Driver.(Backend)
	if !ok {
		return nil, nil, fail(e, MsgUnsupported, fmt.Errorf("driver %T has no policy or key store", e.Driver))
	}
	pol, err := b.Policy()
	if err != nil {
		return nil, nil, fail(e, shim.MsgUnavailable, err)
	}
	return b, pol, nil
}

// errDenied is the logged reason for a refused --user.
var errDenied = errors.New("--user by a non-admin")
