package setup

import (
	"path/filepath"

	"github.com/gitserver/gitserver/internal/config"
)

// Call is one of the calls sshd makes, in the shapes gitserver itself
// writes for sshd (sshd-config's AuthorizedKeysCommand line and
// authorized-keys' forced command), or the call of the pre-receive
// script in gitserver's hooks directory (package internal/hooks), once
// per push:
//
//	[--config FILE] authorized-keys LOGIN KEYTYPE KEY
//	[--config FILE] shell --user USER --key FINGERPRINT
//	[--config FILE] hook pre-receive
type Call struct {
	Config string   // absolute: from --config, else $GITSERVER_CONFIG, else config.DefaultPath
	Name   string   // "authorized-keys", "shell" or "hook"
	Args   []string // LOGIN KEYTYPE KEY, USER FINGERPRINT, or "pre-receive"
}

// ParseCall recognises these calls. Any other shape, or an argument that
// is empty or looks like a flag, is not one: callers then take the full
// command-line parser, which accepts these same shapes with the same
// meaning and reports everything else.
func ParseCall(args []string, getenv func(string) string) (Call, bool) {
	path := getenv("GITSERVER_CONFIG")
	if path == "" {
		path = config.DefaultPath
	}
	if len(args) >= 2 && args[0] == "--config" {
		path, args = args[1], args[2:]
	}
	if path == "" {
		return Call{}, false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Call{}, false
	}
	switch {
	case len(args) == 4 && args[0] == "authorized-keys" && plain(args[1:]...):
		return Call{Config: abs, Name: args[0], Args: args[1:]}, true
	case len(args) == 5 && args[0] == "shell" && args[1] == "--user" && args[3] == "--key" && plain(args[2], args[4]):
		return Call{Config: abs, Name: args[0], Args: []string{args[2], args[4]}}, true
	case len(args) == 2 && args[0] == "hook" && args[1] == "pre-receive":
		return Call{Config: abs, Name: args[0], Args: args[1:]}, true
	}
	return Call{}, false
}

// plain reports whether no arg is empty or looks like a flag.
func plain(args ...string) bool {
	for _, a := range args {
		if a == "" || a[0] == '-' {
			return false
		}
	}
	return true
}
