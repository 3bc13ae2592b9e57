// Package hooks writes the git hooks directory that gitserver owns, and
// runs gitserver's pre-receive check.
//
// receive-pack runs as "git -c core.hooksPath=DIR receive-pack REPO" (see
// shim.Shim.Hooks), where DIR is one of the directories this package
// keeps (For chooses it for each push). The pre-receive script starts
// gitserver ("gitserver --config FILE hook pre-receive"), which checks
// every pushed ref update against the driver and then runs the
// repository's own pre-receive (Push.Run). When a webhook wants the
// repository, the post-receive script starts gitserver too, which queues
// the push's deliveries and then runs the repository's own post-receive.
// Every other script is a few lines of sh that exec the repository's own
// hook of the same name when it is an executable file, and otherwise exit
// 0; a repository that has none of those hooks pushes through a
// directory that holds only the scripts that start gitserver, so that git
// starts no sh for them. A push with no webhook and no repository hooks
// starts one process besides git's own: gitserver, for the check; and
// admins keep their hooks.
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
	"strings"
)

// Names are the hooks receive-pack runs (in a bare repository), all of
// which a directory that chains holds: with core.hooksPath set, git would
// otherwise skip a repository's own hook of a name missing there.
var Names = []string{"pre-receive", "update", "post-receive", "post-update", "reference-transaction", "push-to-checkout", "proc-receive"}

// Dir is the hooks directory inside gitserver's data directory.
func Dir(dataDir string) string { return filepath.Join(dataDir, "hooks") }

// A layout is one of the hooks directories Ensure writes, for one kind of
// push (see For).
type layout struct {
	sub string // the directory below Dir ("" for Dir itself)
	// webhooks: post-receive runs gitserver, which queues the push's
	// webhook deliveries and then runs the repository's post-receive.
	webhooks bool
	// chain: the directory holds every name in Names, the ones that do
	// not start gitserver running the repository's hook of that name;
	// otherwise it holds only the hooks that start gitserver.
	chain bool
}

// layouts are the four directories: a push starts gitserver for
// post-receive only when a webhook wants the repository, and sh for the
// other names only when the repository has hooks of its own.
var layouts = []layout{
	{sub: "", webhooks: true, chain: true},
	{sub: "no-webhooks", webhooks: false, chain: true},
	{sub: "pre-and-post-receive", webhooks: true, chain: false},
	{sub: "pre-receive-only", webhooks: false, chain: false},
}

// holds reports whether l's directory holds the hook name.
func (l layout) holds(name string) bool {
	return l.chain || l.runsGitserver(name)
}

// runsGitserver reports whether l's script for name starts gitserver.
func (l layout) runsGitserver(name string) bool {
	return name == "pre-receive" || name == "post-receive" && l.webhooks
}

// Script returns the text of the hook name: for pre-receive, a script
// that runs bin with config; for post-receive, with webhooks, one that
// does the same; for every other hook, one that runs only the
// repository's own hook.
func Script(bin, config, name string, webhooks bool) string {
	switch {
	case name == "pre-receive":
		return "#!/bin/sh\n" +
			"# Written by gitserver: checks pushed refs against the policy, then runs\n" +
			"# the repository's own hooks/pre-receive if it is executable. Rewritten\n" +
			"# when it differs; do not edit.\n" +
			"exec " + shQuote(bin) + " --config " + shQuote(config) + " hook pre-receive \"$@\"\n"
	case name == "post-receive" && webhooks:
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

// Ensure makes dir hold the hook scripts for bin and config, in each of
// the directories For chooses from, writing only what differs, and
// returns dir. bin and config must be absolute. A hook a directory must
// not hold (one an older version wrote there) is removed.
func Ensure(dir, bin, config string) (string, error) {
	if !filepath.IsAbs(bin) || !filepath.IsAbs(config) {
		return "", fmt.Errorf("hooks: %q and %q must be absolute paths", bin, config)
	}
	for _, l := range layouts {
		d := filepath.Join(dir, l.sub)
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("hooks: %w", err)
		}
		if err := checkMode(d, true); err != nil {
			return "", err
		}
		for _, name := range Names {
			p := filepath.Join(d, name)
			if !l.holds(name) {
				if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return "", fmt.Errorf("hooks: %w", err)
				}
				continue
			}
			if err := ensureScript(p, Script(bin, config, name, l.webhooks)); err != nil {
				return "", err
			}
		}
	}
	return dir, nil
}

// For returns the hooks directory, of those Ensure wrote in dir, for a
// push to the repository at repo; webhooks says whether a webhook wants
// that repository. Git then starts gitserver for pre-receive, and for
// post-receive only with webhooks; and it starts sh for the other hook
// names only when the repository has one of the hooks those scripts look
// for (any of Names, in any form, but the ones gitserver runs itself).
// A hook added to the repository while a push runs may be missed by that
// push; an error other than "does not exist" counts as a hook.
func For(dir, repo string, webhooks bool) string {
	want := layout{webhooks: webhooks}
	for _, name := range Names {
		if want.runsGitserver(name) {
			continue // gitserver runs the repository's own
		}
		if _, err := os.Lstat(filepath.Join(repo, "hooks", name)); !errors.Is(err, fs.ErrNotExist) {
			want.chain = true
			break
		}
	}
	for _, l := range layouts {
		if l.webhooks == want.webhooks && l.chain == want.chain {
			return filepath.Join(dir, l.sub)
		}
	}
	panic("hooks: no layout") // layouts has every combination
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
	for _, l := range layouts {
		d := filepath.Join(dir, l.sub)
		if _, err := os.Lstat(d); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := checkMode(d, true); err != nil {
			return err
		}
		for _, p := range paths(d, Names) {
			if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err := checkMode(p, false); err != nil {
				return err
			}
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
