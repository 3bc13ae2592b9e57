package shim

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
)

// SafePath is the PATH git runs with, and where LookGit searches. It is
// fixed: the client's environment never decides which binary runs.
const SafePath = "/usr/local/bin:/usr/bin:/bin"

// maxProtocolLen bounds GIT_PROTOCOL; git's own values are a few bytes.
const maxProtocolLen = 256

// protocolRE is git's GIT_PROTOCOL shape: colon-separated key[=value]
// parameters, e.g. "version=2".
var protocolRE = regexp.MustCompile(`^[a-z0-9-]+(=[A-Za-z0-9._-]+)?(:[a-z0-9-]+(=[A-Za-z0-9._-]+)?)*$`)

// ValidProtocol reports whether v may be passed on to git as GIT_PROTOCOL.
func ValidProtocol(v string) bool {
	return len(v) <= maxProtocolLen && protocolRE.MatchString(v)
}

// Env is git's whole environment: a fixed PATH, HOME, a well-formed
// GIT_PROTOCOL, and GITSERVER_USER, GITSERVER_KEY and GITSERVER_REPO for
// hooks. Nothing of the client's environment is inherited.
func Env(home string, req Request, name string) []string {
	env := []string{
		"PATH=" + SafePath,
		"HOME=" + home,
		"GITSERVER_USER=" + req.User,
		"GITSERVER_KEY=" + req.Key,
		"GITSERVER_REPO=" + name,
	}
	if req.Protocol != "" && ValidProtocol(req.Protocol) {
		env = append(env, "GIT_PROTOCOL="+req.Protocol)
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
