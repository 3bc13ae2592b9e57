// Command gitserver hosts git repositories over SSH, behind OpenSSH
// (authorized-keys and shell) or on its own listener (serve).
//
// This binary is the front. sshd starts it three times per login: twice
// as the AuthorizedKeysCommand, once as the forced command (shell); and
// git starts it once per push, as the pre-receive hook. For those calls,
// with the file driver, it answers itself, linking only what the answers
// need (internal/authkeys, internal/shell, internal/hooks); for everything
// else it starts with exec the full program, gitserver-core (package
// cli), installed beside it. The full program's command line and SSH
// implementation alone take about 40 % longer to start than a Go
// hello-world (see README, Performance).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/gitserver/gitserver/internal/authkeys"
	"github.com/gitserver/gitserver/internal/config"
	_ "github.com/gitserver/gitserver/internal/filedriver" // the only driver the front serves
	"github.com/gitserver/gitserver/internal/hooks"
	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/internal/shell"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/shim"
)

func main() {
	start := time.Now()
	call, ok := setup.ParseCall(os.Args[1:], os.Getenv)
	if ok {
		if code, done := answer(call, start); done {
			os.Exit(code)
		}
	}
	err := execCore()
	// Behind sshd, stderr is the SSH client's (a hook's too): the shell
	// and the hook tell it the short message, the operator's log the
	// detail.
	if ok && call.Name != "authorized-keys" {
		fmt.Fprintln(os.Stderr, shim.MsgUnavailable)
		if a, lerr := setup.LoadConfig(call.Config); lerr == nil {
			a.Log.Error("cannot start the full program", "error", err)
			a.Close()
		}
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gitserver: %v\n", err)
	os.Exit(1)
}

// frontServes reports whether the front may answer for cfg: with the file
// driver, which matches only keys that were validated when added to its
// store (so the offered key's form is enough, keys.Offered) and holds no
// process that an exec into the full program would orphan; and with a log
// file, not syslog, which the front does not link (setup.UseSyslog).
// Other drivers see the key itself, which the full program validates.
func frontServes(cfg *config.Config) bool { return cfg.Driver == "file" && !setup.Syslog(cfg) }

// answer runs call here when the front may. done is false when the full
// program must: another driver, or a config that does not load (the full
// program reports it the same way).
func answer(call setup.Call, start time.Time) (code int, done bool) {
	a, err := setup.LoadConfig(call.Config)
	if err != nil {
		return 0, false
	}
	defer a.Close()
	if !frontServes(a.Cfg) {
		return 0, false
	}
	ctx := context.Background()
	if call.Name == "hook" {
		p := &hooks.Push{Env: os.Environ(), Stdout: os.Stdout, Stderr: os.Stderr, Log: a.Log.Named("hook")}
		return p.Run(ctx, os.Stdin, a.Driver), true
	}
	if call.Name == "shell" {
		// The shell creates files (repositories on push, the hooks):
		// they belong to the ssh user, as setup.Load makes them.
		if a.Owner, err = setup.OwnerFor(a.Cfg.SSHUser); err != nil {
			return 0, false
		}
		s := &shell.Session{
			Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Start: start,
			// Built-in commands (help, info, keys...) parse keys: the
			// full program runs them, and logs the request.
			Builtin: func(_ context.Context, log hclog.Logger, _ *shim.Shim, _ shim.Request, _ *shim.Plan) int {
				log.Error("cannot start the full program", "error", execCore())
				fmt.Fprintln(os.Stderr, shim.MsgUnavailable)
				return 1
			},
		}
		return s.Run(ctx, a, call.Args[0], call.Args[1]), true
	}
	err = authkeys.Run(ctx, os.Stdout, a, call.Config,
		authkeys.Request{Login: call.Args[0], KeyType: call.Args[1], Key: call.Args[2]}, keys.Offered)
	switch {
	case errors.Is(err, authkeys.ErrLogged):
		return 1, true
	case err != nil:
		fmt.Fprintf(os.Stderr, "gitserver: %v\n", err)
		return 1, true
	}
	return 0, true
}

// execCore replaces this process with gitserver-core from this binary's
// directory, with the same arguments and environment. It returns only on
// failure. Like sshd with the AuthorizedKeysCommand, it refuses a file
// that others than root or the caller could have changed.
func execCore() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find this program: %v", err)
	}
	core := filepath.Join(filepath.Dir(exe), setup.CoreName)
	fi, err := os.Stat(core)
	if err != nil {
		return fmt.Errorf("%v; install %s beside gitserver (go install ./cmd/..., or install -m 755 gitserver %s /usr/local/bin/)", err, setup.CoreName, setup.CoreName)
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o022 != 0 || st == nil || st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s (mode %v) must be a file owned by root (or you) and not group/world-writable; refusing to run it", core, fi.Mode().Perm())
	}
	err = syscall.Exec(core, append([]string{core}, os.Args[1:]...), os.Environ())
	return fmt.Errorf("cannot run %s: %v", core, err)
}
