package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/gitserver/gitserver/internal/config"
)

// fastPath runs the two commands sshd starts, in exactly the argument
// shapes gitserver itself writes for sshd (sshd-config's
// AuthorizedKeysCommand line, authorized-keys' forced command), without
// building the whole kong CLI: sshd runs authorized-keys twice per login
// and shell once, and kong's reflection over every command costs about
// half a millisecond each time. Any other shape, --help included, goes
// through kong, which accepts these same shapes with the same meaning.
func fastPath(e *env, args []string) (code int, ok bool) {
	cli := &CLI{Config: e.getenv("GITSERVER_CONFIG")}
	if cli.Config == "" {
		cli.Config = config.DefaultPath
	}
	if len(args) >= 2 && args[0] == "--config" {
		cli.Config, args = args[1], args[2:]
	}
	var cmd interface{ Run(*CLI, *env) error }
	switch {
	case len(args) == 4 && args[0] == "authorized-keys" && plain(args[1:]):
		cmd = &AuthorizedKeysCmd{User: args[1], KeyType: args[2], Key: args[3]}
	case len(args) == 5 && args[0] == "shell" && args[1] == "--user" && args[3] == "--key" && plain(args[2:3]) && plain(args[4:]):
		cmd = &ShellCmd{User: args[2], Key: args[4]}
	default:
		return 0, false
	}
	abs, err := filepath.Abs(cli.Config)
	if err != nil || cli.Config == "" {
		return 0, false
	}
	cli.Config = abs
	return exitCode(e, cmd.Run(cli, e)), true
}

// plain reports whether no arg looks like a flag, which kong would read as
// one; such calls take the slow path so that both paths agree.
func plain(args []string) bool {
	for _, a := range args {
		if a == "" || a[0] == '-' {
			return false
		}
	}
	return true
}

// exitCode turns a command's error into the exit code, printing it.
func exitCode(e *env, err error) int {
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return int(ee)
	}
	fmt.Fprintf(e.stderr, "gitserver: %v\n", err)
	return 1
}
