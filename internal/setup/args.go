package setup

import (
	"path/filepath"

	"github.com/gitserver/gitserver/internal/config"
)

// ConfigArg splits the arguments of the calls sshd makes, in the shapes
// gitserver itself writes for sshd ("[--config FILE] COMMAND ARGS..."),
// into the absolute path of the config file (from --config, else
// $GITSERVER_CONFIG, else config.DefaultPath) and the rest. ok is false
// when the path cannot be made absolute; callers then take the full
// command-line parser, which reports it.
func ConfigArg(args []string, getenv func(string) string) (path string, rest []string, ok bool) {
	path = getenv("GITSERVER_CONFIG")
	if path == "" {
		path = config.DefaultPath
	}
	if len(args) >= 2 && args[0] == "--config" {
		path, args = args[1], args[2:]
	}
	if path == "" {
		return "", nil, false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, false
	}
	return abs, args, true
}

// Plain reports whether no arg is empty or looks like a flag, which a
// command-line parser would read as one: calls with such arguments must
// take the full parser, so that both ways of reading agree.
func Plain(args ...string) bool {
	for _, a := range args {
		if a == "" || a[0] == '-' {
			return false
		}
	}
	return true
}
