package hooks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/gitserver/gitserver/internal/bounded"
	"github.com/gitserver/gitserver/shim"
)

// A symbolic ref in a bare repository (refs/heads/master holding "ref:
// refs/heads/main") makes git write its target when a client pushes to
// it, deletes included: the check decides on the ref that will change.

// maxSymrefReads is how many refs git reads to resolve one (git's
// SYMREF_MAXDEPTH): a pushed ref and at most four symbolic refs after it.
// git refuses a longer chain as a broken symref; so does the check.
const maxSymrefReads = 5

// Bounds on what the check reads of a repository.
const (
	maxRefFile = 4096    // a loose ref: "ref: " and a name, or an object name
	maxConfig  = 1 << 20 // a repository's config, scanned for refStorage
)

// readSymref returns the target of the symbolic ref name, and whether
// name is one. A ref that does not exist, or is not symbolic, is not one.
type readSymref func(name string) (target string, ok bool, err error)

// errNamespace refuses a push in a git namespace: the refs files read
// would not be the ones git writes. gitserver never sets GIT_NAMESPACE.
var errNamespace = errors.New("hooks: GIT_NAMESPACE is set; namespaced pushes are not supported")

// symrefReader returns how to read the symbolic refs of the repository
// at gitDir, and what closes it: the loose ref files themselves with the
// files backend (a symbolic ref is always a loose file there, never
// packed), else "git symbolic-ref".
func (p *Push) symrefReader(gitDir, git string) (readSymref, func(), error) {
	if p.getenv("GIT_NAMESPACE") != "" {
		return nil, nil, errNamespace
	}
	root, err := os.OpenRoot(gitDir)
	if err != nil {
		return nil, nil, fmt.Errorf("hooks: %w", err)
	}
	files, err := filesBackend(root)
	if err != nil || !files {
		root.Close()
		return p.gitSymref(git), func() {}, err
	}
	return rootSymref(root), func() { root.Close() }, nil
}

// filesBackend reports whether the repository in root keeps its refs as
// files in itself: no reftable directory, no refStorage extension in its
// config, and no commondir (a linked worktree, whose branches live
// elsewhere). Anything unsure is left to git.
func filesBackend(root *os.Root) (bool, error) {
	for _, name := range []string{"reftable", "commondir"} {
		if _, err := root.Lstat(name); err == nil {
			return false, nil
		} else if !notFound(err) {
			return false, fmt.Errorf("hooks: %w", err)
		}
	}
	f, err := root.Open("config")
	if notFound(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("hooks: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfig+1))
	if err != nil {
		return false, fmt.Errorf("hooks: %w", err)
	}
	return len(b) <= maxConfig && !bytes.Contains(bytes.ToLower(b), []byte("refstorage")), nil
}

// notFound reports whether err says that a file is not there: missing,
// or below something that is not a directory.
func notFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// rootSymref reads loose refs as git's files backend does, but only
// inside the repository: os.Root refuses any path, symlinks included,
// that leaves it. A symlink whose target starts with "refs/" is a
// symbolic ref (git's old form); any other symlink git follows to read
// the ref it names, and so does this, within the repository. A file
// starting with "ref:" is a symbolic ref to the name after it.
func rootSymref(root *os.Root) readSymref {
	return func(name string) (string, bool, error) {
		fi, err := root.Lstat(name)
		switch {
		case notFound(err):
			return "", false, nil // packed, or not there
		case err != nil:
			return "", false, fmt.Errorf("hooks: %w", err)
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := root.Readlink(name)
			if err != nil {
				return "", false, fmt.Errorf("hooks: %w", err)
			}
			if strings.HasPrefix(target, "refs/") {
				return target, true, nil
			}
			if fi, err = root.Stat(name); err != nil {
				return "", false, fmt.Errorf("hooks: %w", err)
			}
			if !fi.Mode().IsRegular() {
				return "", false, fmt.Errorf("hooks: ref %s is a symlink to something other than a file", name)
			}
		case fi.IsDir():
			return "", false, nil // not a ref: git refuses to write it
		case !fi.Mode().IsRegular():
			return "", false, fmt.Errorf("hooks: ref %s is not a regular file", name)
		}
		f, err := root.Open(name)
		if err != nil {
			return "", false, fmt.Errorf("hooks: %w", err)
		}
		defer f.Close()
		b, err := bounded.ReadAll(f, maxRefFile, "ref "+name)
		if err != nil {
			return "", false, fmt.Errorf("hooks: %w", err)
		}
		target, ok := bytes.CutPrefix(b, []byte("ref:"))
		return string(bytes.TrimSpace(target)), ok, nil
	}
}

// gitSymref asks git, for repositories with another ref backend.
func (p *Push) gitSymref(git string) readSymref {
	return func(name string) (string, bool, error) {
		cmd := exec.Command(git, "symbolic-ref", "-q", "--no-recurse", name)
		cmd.Env = p.Env
		out, err := cmd.Output()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee) && ee.ExitCode() == 1:
			return "", false, nil // not a symbolic ref
		case err != nil:
			return "", false, fmt.Errorf("hooks: git symbolic-ref %s: %w", name, err)
		}
		return strings.TrimSpace(string(out)), true, nil
	}
}

// refTarget follows the symbolic refs from the pushed ref name to the
// ref git will change, and returns it. When the check will not follow,
// refusal says why, for the client; bad is then the offending target,
// for the log only.
func refTarget(read readSymref, name string) (target, refusal, bad string, err error) {
	target = name
	for range maxSymrefReads {
		next, ok, err := read(target)
		switch {
		case err != nil:
			return target, "", "", err
		case !ok:
			return target, "", "", nil
		case !shim.ValidRef(next):
			return target, "symbolic ref to a name outside refs/", next, nil
		}
		target = next
	}
	return target, fmt.Sprintf("chain of more than %d symbolic refs", maxSymrefReads-1), "", nil
}
