package cli

import (
	"errors"
	"fmt"

	"github.com/gitserver/gitserver/internal/setup"
)

// fastPath runs the two commands sshd starts, in exactly the argument
// shapes gitserver itself writes for sshd (sshd-config's
// AuthorizedKeysCommand line, authorized-keys' forced command), without
// building the whole kong CLI: sshd runs authorized-keys twice per login
// and shell once, and kong's reflection over every command costs about
// half a millisecond each time. Any other shape, --help included, goes
// through kong, which accepts these same shapes with the same meaning.
func fastPath(e *env, args []string) (code int, ok bool) {
	config, args, ok := setup.ConfigArg(args, e.getenv)
	if !ok {
		return 0, false
	}
	var cmd interface{ Run(*CLI, *env) error }
	switch {
	case len(args) == 4 && args[0] == "authorized-keys" && setup.Plain(args[1:]...):
		cmd = &AuthorizedKeysCmd{User: args[1], KeyType: args[2], Key: args[3]}
	case len(args) == 5 && args[0] == "shell" && args[1] == "--user" && args[3] == "--key" && setup.Plain(args[2], args[4]):
		cmd = &ShellCmd{User: args[2], Key: args[4]}
	default:
		return 0, false
	}
	return exitCode(e, cmd.Run(&CLI{Config: config}, e)), true
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
