package cli

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/gitserver/gitserver/internal/builtin"
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

// Run checks the request and runs git. The client sees only short, stable
// messages; the detail goes to the operator's log.
func (c *ShellCmd) Run(cli *CLI, e *env) error {
	start := time.Now()
	a, err := load(cli)
	if err != nil {
		fmt.Fprintln(e.stderr, shim.MsgUnavailable)
		return exitError(1)
	}
	defer a.Close()
	log := a.Log.Named("shell")
	d, err := a.Driver()
	if err != nil {
		log.Error("cannot open driver", "error", err)
		fmt.Fprintln(e.stderr, shim.MsgUnavailable)
		return exitError(1)
	}
	req := shim.Request{User: c.User, Key: c.Key, Command: e.getenv("SSH_ORIGINAL_COMMAND"), Protocol: e.getenv("GIT_PROTOCOL")}
	if req.User == "" {
		if req.User, req.Key, err = userFromAuthInfo(e, d, a.Cfg.SSHUser); err != nil {
			log.Warn("no usable key in SSH_USER_AUTH", "error", err)
			fmt.Fprintln(e.stderr, shim.MsgDenied)
			return exitError(1)
		}
	}
	log = log.With("user", req.User, "key", req.Key, "client", clientAddr(e))
	git, err := shim.LookGit()
	if err != nil {
		log.Error("git not found", "error", err)
		fmt.Fprintln(e.stderr, shim.MsgUnavailable)
		return exitError(1)
	}
	s := &shim.Shim{Driver: d, Root: a.Cfg.Repos, Git: git, Home: a.Owner.Home, Create: a.createOnPush(git)}
	if strings.Contains(req.Command, "receive-pack") {
		// Only a push runs hooks; reads do not pay for the check.
		if s.HooksPath, err = ensureHooks(a); err != nil {
			log.Error("cannot set up the hooks directory; pushes are refused", "error", err)
			fmt.Fprintln(e.stderr, shim.MsgUnavailable)
			return exitError(1)
		}
	}
	plan, err := s.Plan(e.ctx, req)
	if errors.Is(err, shim.ErrNoCommand) {
		log.Info("interactive login refused")
		fmt.Fprintln(e.stderr, shim.Greeting(req.User))
		return exitError(1)
	}
	if errors.Is(err, shim.ErrBuiltin) {
		return runBuiltin(e, log, s, req, plan, start)
	}
	if err != nil {
		msg, args := shim.Refusal(req, plan, err)
		log.Info("request", append(args, "exit", 1, "duration", time.Since(start))...)
		fmt.Fprintln(e.stderr, msg)
		return exitError(1)
	}
	code := runGit(e, plan)
	log.Info("request", "command", plan.Verb, "repo", plan.Name, "decision", "allow",
		"rule", plan.Rule, "exit", code, "duration", time.Since(start))
	if code != 0 {
		return exitError(code)
	}
	return nil
}

// runBuiltin runs a built-in command (help, info, keys...) on this
// process's stdio and logs one line for it.
func runBuiltin(e *env, log hclog.Logger, s *shim.Shim, req shim.Request, plan *shim.Plan, start time.Time) error {
	code, err := builtin.Run(e.ctx, builtin.Env{Driver: s.Driver, Root: s.Root, Req: req, Cmd: *plan.Builtin,
		Stdin: e.stdin, Stdout: e.stdout, Stderr: e.stderr})
	log.Info("request", append(builtin.LogArgs(*plan.Builtin, code, err), "duration", time.Since(start))...)
	if code != 0 {
		return exitError(code)
	}
	return nil
}

// runGit runs the plan on this process's stdio and relays the signals sshd
// sends when the client goes away.
func runGit(e *env, plan *shim.Plan) int {
	cmd := plan.Command(e.ctx, e.stdin, e.stdout, e.stderr)
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

// clientAddr is the client's address as sshd reports it, for the log.
func clientAddr(e *env) string {
	conn := e.getenv("SSH_CONNECTION")
	var ip, port string
	if _, err := fmt.Sscan(conn, &ip, &port); err != nil {
		return ""
	}
	return ip + ":" + port
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
