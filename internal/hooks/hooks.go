// Package hooks writes the git hooks directory that gitserver owns, and
// runs gitserver's pre-receive check.
//
// receive-pack runs as "git -c core.hooksPath=DIR receive-pack REPO" (see
// shim.Shim.HooksPath), where DIR is the directory this package keeps:
// one small script per hook git runs during a push (Names). Only the
// pre-receive script starts gitserver ("gitserver --config FILE hook
// pre-receive"), which checks every pushed ref update against the driver
// and then runs the repository's own pre-receive (Push.Run). Every other
// script is a few lines of sh that exec the repository's own hook of the
// same name when it is an executable file, and otherwise exit 0: a push
// starts gitserver once, and admins keep their hooks. A push to a
// repository that has none of those hooks runs DIR/pre-receive-only
// instead, which holds the pre-receive script alone (For): git then
// starts no process but gitserver's.
//
// A repository's hook is GIT_DIR/hooks/NAME (GIT_DIR "." when unset;
// git runs hooks in the repository), run with git's arguments, input and
// environment. It is never looked up in PATH: a relative path is run as
// "./PATH".
//
// # Security
//
// A configuration given with -c on git's command line beats every config
// file, so neither a repository's config (set by an admin by mistake) nor
// anything a client pushes can point git at other hooks. The scripts name
// the gitserver binary and config file by absolute path, quoted for sh,
// and are written mode 0755 in a directory of mode 0755, by whoever runs
// Ensure (root at init, or the ssh user): nobody else can change them.
// Ensure rewrites a script whose content is not what it should be,
// atomically, and refuses a directory or script that group or others may
// write.
//
// The pre-receive check decides each update on the ref git will change.
// A symbolic ref in a bare repository (refs/heads/master holding "ref:
// refs/heads/main") makes git write its target, so the check follows it:
// it reads the loose ref files (a symbolic ref is never packed) through
// an os.Root, so never outside the repository, or asks git when the
// repository uses another ref backend. It refuses an update through a
// symbolic ref to a name outside refs/, to a ref that does not exist, or
// in a chain longer than git follows, and one it cannot resolve (a
// symlink out of the repository, say). Any change to an existing tag is
// classified a rewind, as gitolite does, so it needs force; merge-base
// classifies the other updates with replace refs off, so a pushed
// refs/replace/ ref cannot dress a rewind as a fast-forward.
package hooks

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Names are the hooks receive-pack runs (in a bare repository), all of
// which the directory holds: with core.hooksPath set, git would otherwise
// skip a repository's own hook of a name missing here.
var Names = []string{"pre-receive", "update", "post-receive", "post-update", "reference-transaction", "push-to-checkout", "proc-receive"}

// Dir is the hooks directory inside gitserver's data directory.
func Dir(dataDir string) string { return filepath.Join(dataDir, "hooks") }

// Script returns the text of the hook name: for pre-receive, a script
// that runs bin with config; for every other hook, one that runs only
// the repository's own hook.
func Script(bin, config, name string) string {
	switch name {
	case "pre-receive":
		return "#!/bin/sh\n" +
			"# Written by gitserver: checks pushed refs against the policy, then runs\n" +
			"# the repository's own hooks/pre-receive if it is executable. Rewritten\n" +
			"# when it differs; do not edit.\n" +
			"exec " + shQuote(bin) + " --config " + shQuote(config) + " hook pre-receive \"$@\"\n"
	case "post-receive":
		return "#!/bin/sh\n" +
			"# Written by gitserver: queues the push's webhook deliveries, then runs\n" +
			"# the repository's own hooks/post-receive if it is executable. Rewritten\n" +
			"# when it differs; do not edit.\n" +
			"exec " + shQuote(bin) + " --config " + shQuote(config) + " hook post-receive \"$@\"\n"
	}
	return "#!/bin/sh\n" +
		"# Written by gitserver: runs the repository's own hook of this name if it\n" +
		"# is an executable file. Rewritten when it differs; do not edit.\n" +
		"h=${GIT_DIR:-.}/hooks/" + shQuote(name) + "\n" +
		"case $h in /*) ;; *) h=./$h ;; esac\n" +
		"if [ -f \"$h\" ] && [ -x \"$h\" ]; then exec \"$h\" \"$@\"; fi\n" +
		"exit 0\n"
}

// shQuote quotes s for sh: single quotes, each ' written as '\”.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Ensure makes dir hold the hook scripts for bin and config, writing only
// what differs, and returns dir. bin and config must be absolute.
func Ensure(dir, bin, config string) (string, error) {
	if !filepath.IsAbs(bin) || !filepath.IsAbs(config) {
		return "", fmt.Errorf("hooks: %q and %q must be absolute paths", bin, config)
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("hooks: %w", err)
	}
	if err := checkMode(dir, true); err != nil {
		return "", err
	}
	for _, name := range Names {
		if err := ensureScript(filepath.Join(dir, name), Script(bin, config, name)); err != nil {
			return "", err
		}
	}
	only := filepath.Join(dir, checkOnly)
	if err := os.Mkdir(only, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("hooks: %w", err)
	}
	if err := checkMode(only, true); err != nil {
		return "", err
	}
	for _, name := range gitserverHooks {
		if err := ensureScript(filepath.Join(only, name), Script(bin, config, name)); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// gitserverHooks are the hooks that run gitserver itself: in both
// directories.
var gitserverHooks = []string{"pre-receive", "post-receive"}

// checkOnly is the directory, inside the hooks directory, that holds
// gitserver's own hook scripts alone (see For).
const checkOnly = "pre-receive-only"

// For returns the hooks directory for a push to the repository at repo:
// dir, which Ensure wrote, or, when the repository has no hook that
// dir's sh scripts would look for (none of Names but pre-receive exists
// in repo/hooks, in any form), dir's directory that holds only the
// pre-receive script, so that git starts no process for those hooks. A
// hook added to the repository while a push runs may be missed by that
// push; an error other than "does not exist" counts as a hook.
func For(dir, repo string) string {
	for _, name := range Names {
		if slices.Contains(gitserverHooks, name) {
			continue // in both directories
		}
		if _, err := os.Lstat(filepath.Join(repo, "hooks", name)); !errors.Is(err, fs.ErrNotExist) {
			return dir
		}
	}
	return filepath.Join(dir, checkOnly)
}

// ensureScript writes body to path unless it already holds exactly that.
func ensureScript(path, body string) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, []byte(body)) {
		return checkMode(path, false)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-hook-")
	if err != nil {
		return fmt.Errorf("hooks: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(body); err != nil {
		tmp.Close()
		return fmt.Errorf("hooks: %w", err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return fmt.Errorf("hooks: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("hooks: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("hooks: %w", err)
	}
	return nil
}

// checkMode refuses a hook script or directory that is not what Ensure
// makes: a regular file (or directory), not writable by group or others.
func checkMode(path string, dir bool) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("hooks: %w", err)
	}
	switch {
	case dir && !fi.IsDir(), !dir && !fi.Mode().IsRegular():
		return fmt.Errorf("hooks: %s is not a plain %s", path, map[bool]string{true: "directory", false: "file"}[dir])
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("hooks: %s is writable by group or others (mode %v); chmod go-w it", path, fi.Mode().Perm())
	}
	return nil
}

// Check reports a hooks directory or script that others could change:
// whoever can write them decides what every push runs. A directory that
// does not exist yet is fine (Ensure creates it).
func Check(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := checkMode(dir, true); err != nil {
		return err
	}
	only := filepath.Join(dir, checkOnly)
	for _, p := range append(append(paths(dir, Names), only), paths(only, gitserverHooks)...) {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := checkMode(p, p == only); err != nil {
			return err
		}
	}
	return nil
}

// paths joins dir and each name.
func paths(dir string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(dir, n)
	}
	return out
}
