package shim

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// A repository made by 'repos create' or created by a push has HEAD
// pointing at the default branch; a first push of another branch only
// (main where git's default is master, or the reverse) would leave every
// clone with "remote HEAD refers to nonexistent ref" and nothing checked
// out. So when a push creates the first branches of a repository whose
// HEAD names a branch that does not exist, HEAD is pointed at one of
// them: main or master if pushed, else the first by name.

// hasBranches reports whether the bare repository at dir has a branch,
// loose or packed. It reads files only: it runs before every push.
func hasBranches(dir string) bool {
	if entries, err := os.ReadDir(filepath.Join(dir, "refs", "heads")); err == nil && len(entries) > 0 {
		return true
	}
	data, err := os.ReadFile(filepath.Join(dir, "packed-refs"))
	return err == nil && bytes.Contains(data, []byte(" refs/heads/"))
}

// headBranch returns the branch HEAD points at, "" when HEAD is not a
// symbolic ref to a branch.
func headBranch(dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, "HEAD"))
	if err != nil {
		return ""
	}
	ref, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "ref: ")
	if !ok || !strings.HasPrefix(ref, "refs/heads/") || !ValidRef(ref) {
		return ""
	}
	return ref
}

// pointHead points HEAD of the repository at dir at a branch that exists,
// when the one it names does not, and returns the branch it chose ("" when
// it changed nothing).
func (s *Shim) pointHead(ctx context.Context, dir string) (string, error) {
	head := headBranch(dir)
	if head == "" {
		return "", nil
	}
	branches, err := s.branches(ctx, dir)
	if err != nil || len(branches) == 0 || slices.Contains(branches, head) {
		return "", err
	}
	pick := branches[0]
	for _, b := range []string{"refs/heads/main", "refs/heads/master"} {
		if slices.Contains(branches, b) {
			pick = b
			break
		}
	}
	if err := SetHead(ctx, s.Git, dir, pick); err != nil {
		return "", err
	}
	return pick, nil
}

// ErrNoBranch is returned by SetHead for a branch the repository lacks.
var ErrNoBranch = errors.New("shim: no such branch")

// BranchRef returns the full ref of branch name ("main" or
// "refs/heads/main" both give "refs/heads/main"), and whether it is a
// valid branch name (ValidRef, not starting with "-").
func BranchRef(name string) (string, bool) {
	ref := "refs/heads/" + strings.TrimPrefix(name, "refs/heads/")
	return ref, name != "" && name[0] != '-' && ValidRef(ref)
}

// SetHead points HEAD of the bare repository at dir at ref, which must be
// an existing branch (else ErrNoBranch). 'gitserver repos set-head', the
// set-head command over SSH and a first push all set HEAD through it.
func SetHead(ctx context.Context, git, dir, ref string) error {
	if _, err := gitIn(ctx, git, dir, "rev-parse", "--verify", "--quiet", ref); err != nil {
		return fmt.Errorf("%w: %s", ErrNoBranch, ref)
	}
	if out, err := gitIn(ctx, git, dir, "symbolic-ref", "HEAD", ref); err != nil {
		return fmt.Errorf("git symbolic-ref HEAD %s: %v: %q", ref, err, out)
	}
	return nil
}

// branches lists the repository's branches by full name, sorted.
func (s *Shim) branches(ctx context.Context, dir string) ([]string, error) {
	out, err := gitIn(ctx, s.Git, dir, "for-each-ref", "--format=%(refname)", "refs/heads/")
	if err != nil {
		return nil, fmt.Errorf("git for-each-ref: %v: %s", err, out)
	}
	var refs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if ValidRef(sc.Text()) {
			refs = append(refs, sc.Text())
		}
	}
	slices.Sort(refs)
	return refs, sc.Err()
}

// gitIn runs git on the bare repository dir with an environment of its
// own: no user or system config is read.
func gitIn(ctx context.Context, git, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, git, append([]string{"--git-dir=" + dir}, args...)...)
	cmd.Env = []string{"PATH=" + SafePath, "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1"}
	return cmd.CombinedOutput()
}
