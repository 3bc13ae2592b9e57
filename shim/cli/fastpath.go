package cli

import (
	"errors"
	"fmt"

	"github.com/gitserver/gitserver/internal/setup"
)

// fastPath runs the two commands sshd starts, in exactly the argument
// shapes gitserver itself writes for sshd (sshd-config's
// AuthorizedKeysCommand line, authorized-keys' forced command), and the
// pre-receive hook, without building the whole kong CLI: sshd runs
// authorized-keys twice per login and shell once, and kong's reflection
// over every command costs about half a millisecond each time. Any other
// shape, --help included, goes through kong, which accepts these same
// shapes with the same meaning.
func fastPath(e *env, args []string) (code int, ok bool) {
	call, ok := setup.ParseCall(args, e.getenv)
	if !ok {
		return 0, false
	}
	var cmd interface{ Run(*CLI, *env) error }
	switch call.Name {
	case "authorized-keys":
		cmd = &AuthorizedKeysCmd{User: call.Args[0], KeyType: call.Args[1], Key: call.Args[2]}
	case "hook":
		cmd = &HookCmd{Name: call.Args[0]}
	default:
		cmd = &ShellCmd{User: call.Args[0], Key: call.Args[1]}
	}
	return exitCode(e, cmd.Run(&CLI{Config: call.Config}, e)), true
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
