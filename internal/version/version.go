// Package version says which build of gitserver is running: the module
// version and the VCS revision the go command recorded in the binary
// (runtime/debug.ReadBuildInfo), and a build id that two programs of one
// installation compare so that they never work together across builds.
package version

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
)

// Info is what the binary knows about its own build.
type Info struct {
	Module   string // main module path
	Version  string // module version, e.g. "v1.2.0", or "(devel)"
	Revision string // VCS revision, "" when not recorded
	Time     string // VCS commit time, RFC 3339, "" when not recorded
	Modified bool   // the work tree had uncommitted changes
	Go       string // Go toolchain version
	// Deps lists the dependencies as "path@version", sorted as the go
	// command records them.
	Deps []string
}

var (
	once sync.Once
	info Info
)

// Get returns the running binary's build information, read once.
func Get() Info {
	once.Do(func() {
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			info = Info{Version: "(unknown)"}
			return
		}
		info = Info{Module: bi.Main.Path, Version: bi.Main.Version, Go: bi.GoVersion}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.time":
				info.Time = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
		for _, d := range bi.Deps {
			v := d.Version
			if d.Replace != nil {
				v = d.Replace.Path + "@" + d.Replace.Version
			}
			info.Deps = append(info.Deps, d.Path+"@"+v)
		}
	})
	return info
}

// String is the one line "gitserver --version" prints, e.g.
// "gitserver v1.2.0 (revision 0123abcd…, 2026-11-30T10:00:00Z) go1.26.8".
func (i Info) String() string {
	var b strings.Builder
	b.WriteString("gitserver ")
	b.WriteString(i.Version)
	if i.Revision != "" {
		b.WriteString(" (revision ")
		b.WriteString(i.Revision)
		if i.Modified {
			b.WriteString(", modified")
		}
		if i.Time != "" {
			b.WriteString(", ")
			b.WriteString(i.Time)
		}
		b.WriteString(")")
	}
	if i.Go != "" {
		b.WriteString(" ")
		b.WriteString(i.Go)
	}
	return b.String()
}

// BuildID identifies the build: a digest of the module version, the
// revision, its commit time and state, and the toolchain. gitserver and
// the helper programs it runs (gitserver-http-driver), built from one
// checkout with one toolchain, have the same id; a helper left from
// another version has another one, and refuses to serve. (Dependencies
// are not part of it: the two programs link different modules. Two
// builds of one revision with different uncommitted changes cannot be
// told apart.)
func (i Info) BuildID() string {
	h := sha256.New()
	for _, s := range []string{i.Module, i.Version, i.Revision, i.Time, boolString(i.Modified), i.Go} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

func boolString(b bool) string {
	if b {
		return "modified"
	}
	return "clean"
}

// ErrOtherBuild is returned by CheckPeer when gitserver and a helper
// come from different builds.
var ErrOtherBuild = errors.New("gitserver and its helper come from different builds")

// CheckPeer is a helper program's refusal to serve a gitserver of
// another build: id is the --build-id gitserver passed, helper the
// helper's name. The protocol between the two is internal, and an upgrade
// that replaced one file but not the other must fail at once, with a
// message saying how to install both, not half-work.
func CheckPeer(helper, id string) error {
	own := Get()
	switch {
	case id == "":
		return fmt.Errorf("--build-id is missing: %s is run by gitserver, not by hand", helper)
	case id != own.BuildID():
		return fmt.Errorf("%w (gitserver's build id %s, %s's %s, %s); install both from one build: CGO_ENABLED=0 go install -trimpath ./cmd/gitserver ./cmd/%s", ErrOtherBuild, id, helper, own.BuildID(), own, helper)
	}
	return nil
}
