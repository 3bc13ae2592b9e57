// Command gitserver hosts git repositories over SSH, behind OpenSSH
// (authorized-keys and shell) or on its own listener (serve).
//
// This binary is the front: sshd starts it as its AuthorizedKeysCommand
// twice per login, so it answers that call itself, linking only what the
// answer needs, and starts with exec the full program, gitserver-core
// (package cli), installed beside it, for every other command. With the
// file driver the answer costs little more than starting a Go program;
// the full program's command line and SSH implementation alone take a
// third as long again to start (see README, Performance).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/gitserver/gitserver/internal/authkeys"
	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/shim"
)

func main() {
	args := os.Args[1:]
	config, rest, ok := setup.ConfigArg(args, os.Getenv)
	if ok && len(rest) == 4 && rest[0] == "authorized-keys" && setup.Plain(rest[1:]...) {
		if code, done := authorizedKeys(config, rest[1:]); done {
			os.Exit(code)
		}
	}
	err := execCore(args)
	// Behind sshd, stderr is the SSH client's: a shell gets the short
	// message, the operator's log the detail.
	if ok && len(rest) > 0 && rest[0] == "shell" {
		fmt.Fprintln(os.Stderr, shim.MsgUnavailable)
		if a, lerr := setup.LoadConfig(config); lerr == nil {
			a.Log.Error("cannot start the full program", "error", err)
			a.Close()
		}
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gitserver: %v\n", err)
	os.Exit(1)
}

// authorizedKeys answers sshd when the driver is the file driver, which
// needs no validation of the key material (authkeys.FormOnly). done is
// false when the full program must answer: another driver, or a config
// that does not load (the full program reports it the same way).
func authorizedKeys(config string, args []string) (code int, done bool) {
	a, err := setup.LoadConfig(config)
	if err != nil {
		return 0, false
	}
	defer a.Close()
	if !authkeys.FormOnly(a.Cfg) {
		return 0, false
	}
	err = authkeys.Run(context.Background(), os.Stdout, a, config,
		authkeys.Request{Login: args[0], KeyType: args[1], Key: args[2]}, keys.Offered)
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
func execCore(args []string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find this program: %v", err)
	}
	core := filepath.Join(filepath.Dir(exe), authkeys.CoreName)
	fi, err := os.Stat(core)
	if err != nil {
		return fmt.Errorf("%v; install %s beside gitserver (go install ./cmd/..., or install -m 755 gitserver %s /usr/local/bin/)", err, authkeys.CoreName, authkeys.CoreName)
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o022 != 0 || st == nil || st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s (mode %v) must be a file owned by root (or you) and not group/world-writable; refusing to run it", core, fi.Mode().Perm())
	}
	err = syscall.Exec(core, append([]string{core}, args...), os.Environ())
	return fmt.Errorf("cannot run %s: %v", core, err)
}
