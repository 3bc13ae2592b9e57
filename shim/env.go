package shim

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// SafePath is the PATH git runs with, and where LookGit searches. It is
// fixed: the client's environment never decides which binary runs.
const SafePath = "/usr/local/bin:/usr/bin:/bin"

// maxProtocolLen bounds GIT_PROTOCOL; git's own values are a few bytes.
const maxProtocolLen = 256

// ValidProtocol reports whether v may be passed on to git as GIT_PROTOCOL:
// git's shape, colon-separated key[=value] parameters such as "version=2",
// with keys of [a-z0-9-] and values of [A-Za-z0-9._-].
func ValidProtocol(v string) bool {
	if v == "" || len(v) > maxProtocolLen {
		return false
	}
	for _, param := range strings.Split(v, ":") {
		key, value, hasValue := strings.Cut(param, "=")
		if key == "" || !allBytes(key, protocolKeyByte) || hasValue && (value == "" || !allBytes(value, protocolValueByte)) {
			return false
		}
	}
	return true
}

func protocolKeyByte(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' }

func protocolValueByte(c byte) bool {
	return protocolKeyByte(c) || 'A' <= c && c <= 'Z' || c == '.' || c == '_'
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// Env is git's whole environment: a fixed PATH, HOME, a well-formed
// GIT_PROTOCOL, and GITSERVER_USER, GITSERVER_KEY and GITSERVER_REPO for
// hooks. Nothing of the client's environment is inherited.
func Env(home, user, key, protocol, name string) []string {
	env := []string{
		"PATH=" + SafePath,
		"HOME=" + home,
		"GITSERVER_USER=" + user,
		"GITSERVER_KEY=" + key,
		"GITSERVER_REPO=" + name,
	}
	if protocol != "" && ValidProtocol(protocol) {
		env = append(env, "GIT_PROTOCOL="+protocol)
	}
	return env
}

// LookGit finds git in SafePath.
func LookGit() (string, error) {
	for _, dir := range filepath.SplitList(SafePath) {
		p := filepath.Join(dir, "git")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("shim: git not found in " + SafePath + "; install git (apt-get install git)")
}
