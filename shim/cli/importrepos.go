package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/internal/gitolite"
	"github.com/gitserver/gitserver/internal/sshdconf"
	"github.com/gitserver/gitserver/shim"
)

// 'import gitolite --repos DIR' takes gitolite's repositories directory:
// every NAME.git below it (gitolite-admin aside) becomes the gitserver
// repository NAME, with its gl-creator as gitserver.creator and its
// gl-perms as gitserver.role values. By default it is moved (renamed)
// under the repos root; with --adopt it stays in DIR, which must then be
// the repos root. A hooks/ that holds gitolite's update hook is moved to
// hooks.gitolite/: gitserver runs a repository's own hooks after its own
// checks (internal/hooks Chain), and gitolite's would refuse every push.
// Any other hooks/ is left alone, and its hooks are noted. gl-creator,
// gl-perms and gl-conf stay where they are; gitserver does not read them.
//
// Everything is checked before anything is written (planRepos), and a
// repository with any problem is reported; with --apply, each is then
// imported in this order, so that a kill -9 at any point leaves the old
// state or a usable new one (importRepo):
//
//  1. metadata, in DIR: the config is copied, changed with git config,
//     read back as gitserver reads it and renamed over the old one
//     (gitolite ignores gitserver.* keys, so this is still its state);
//  2. the tree is given to the ssh user (when run as root);
//  3. the repository is renamed into the repos root, never over an
//     existing one (RENAME_NOREPLACE): from here gitserver serves it;
//  4. hooks/ is renamed to hooks.gitolite/. Killed between 3 and 4, the
//     repository is served with its creator and roles, but gitolite's
//     update hook still in it refuses every push (where the ssh user can
//     run it): fail closed. Running the import again with
//     --repos REPOS_ROOT --adopt finishes it; every step is idempotent.
//
// With --adopt there is no step 3 (step 2 also gives the directories
// above the repository, up to the repos root, to the ssh user); a kill
// leaves a repository that the same command run again finishes.

// hooksAside is where gitolite's hooks/ is moved in each repository.
const hooksAside = "hooks.gitolite"

// repoImport is what the import does with one gitolite repository.
type repoImport struct {
	name     string // gitserver's name
	src      string // DIR/NAME.git
	dst      string // its place under the repos root; src with --adopt
	creator  string // to record; "" for none or already recorded
	perms    []gitolite.Perm
	hooks    bool     // hooks/ to move aside
	skip     string   // why it is not imported at all; "" to import it
	quiet    bool     // the skip is no problem (gitolite-admin)
	problems []string // parts not imported
	notes    []string // imported, but worth knowing
}

// reposPlan is the import of a whole repositories directory.
type reposPlan struct {
	dir, root string
	adopt     bool
	repos     []*repoImport
}

// problems counts the repositories and parts not imported.
func (p *reposPlan) problems() int {
	n := 0
	for _, r := range p.repos {
		if r.skip != "" && !r.quiet {
			n++
		}
		n += len(r.problems)
	}
	return n
}

// hintError is an error the command prints with a hint line.
type hintError struct{ msg, hint string }

func (e *hintError) Error() string { return e.msg + "\nhint: " + e.hint }

// planRepos checks the repositories directory against the config and
// plans the import of every repository in it. users are the users with
// a key in the keydir; roles the rc file's.
func (c *ImportGitoliteCmd) planRepos(a *app, roles []string, users map[string]bool) (*reposPlan, error) {
	p := &reposPlan{adopt: c.Adopt}
	var err error
	if p.dir, err = filepath.EvalSymlinks(c.Repos); err != nil {
		return nil, err
	}
	if p.root, err = filepath.EvalSymlinks(a.Cfg.Repos); err != nil {
		return nil, &hintError{fmt.Sprintf("repos root %s: %v", a.Cfg.Repos, err), "run 'gitserver init', or set repos in " + a.Cfg.File}
	}
	if err := p.checkPlaces(a.Cfg.File); err != nil {
		return nil, err
	}
	err = filepath.WalkDir(p.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		link := d.Type()&fs.ModeSymlink != 0
		if path == p.dir || !link && !(d.IsDir() && strings.HasSuffix(path, ".git")) {
			return nil
		}
		rel, _ := filepath.Rel(p.dir, path)
		r := &repoImport{name: strings.TrimSuffix(filepath.ToSlash(rel), ".git"), src: path}
		p.repos = append(p.repos, r)
		if link {
			r.skip = "a symlink, not followed"
			return nil
		}
		p.planOne(r, roles, users)
		return filepath.SkipDir
	})
	return p, err
}

// checkPlaces checks DIR against the repos root: --adopt needs them to
// be one directory, a move needs them apart and on one filesystem.
func (p *reposPlan) checkPlaces(cfgFile string) error {
	set := fmt.Sprintf("set repos = %q in %s", p.dir, cfgFile)
	if p.adopt {
		if p.dir != p.root {
			return &hintError{fmt.Sprintf("--adopt leaves the repositories in %s, but the repos root is %s", p.dir, p.root), set + ", or leave out --adopt to move them"}
		}
		return nil
	}
	if sshdconf.Inside(p.root, p.dir) || sshdconf.Inside(p.dir, p.root) {
		return &hintError{fmt.Sprintf("%s and the repos root %s are the same directory or one is inside the other", p.dir, p.root), "use --adopt to leave the repositories where they are (" + set + ")"}
	}
	if devOf(p.dir) != devOf(p.root) {
		return &hintError{fmt.Sprintf("%s and the repos root %s are on different filesystems: the repositories cannot be moved (renamed) there", p.dir, p.root), "use --adopt and " + set + ", or copy the repositories to the repos root's filesystem first"}
	}
	return nil
}

// devOf is the device of the file at path, or -1.
func devOf(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return -1
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Dev)
	}
	return -1
}

// planOne checks one repository and reads what it records.
func (p *reposPlan) planOne(r *repoImport, roles []string, users map[string]bool) {
	if r.name == "gitolite-admin" {
		r.skip, r.quiet = "gitolite's own config repository (--conf translates its gitolite.conf)", true
		if p.adopt {
			r.notes = append(r.notes, "stays in the repos root, where gitserver serves it as the policy says (pushes run gitolite's hooks, still in it); move it out if it should not be served")
		}
		return
	}
	if name, err := shim.CleanName(r.name); err != nil {
		r.skip = err.Error()
		return
	} else if name != r.name {
		r.skip = "invalid repository name: gitserver would name it " + name
		return
	}
	if fi, err := os.Lstat(filepath.Join(r.src, "HEAD")); err != nil || !fi.Mode().IsRegular() {
		r.skip = "not a repository (no HEAD file)"
		return
	}
	meta, err := filedriver.ReadMeta(r.src)
	if err != nil {
		r.skip = fmt.Sprintf("its config cannot be read as gitserver reads it: %v", err)
		return
	}
	r.dst = r.src
	if !p.adopt {
		r.dst = filepath.Join(p.root, shim.DirName(r.name))
		if _, err := os.Lstat(r.dst); err == nil {
			r.skip = fmt.Sprintf("conflict: %s exists and is never overwritten", r.dst)
			return
		}
	}
	if !r.planHooks() {
		return
	}
	r.planCreator(meta.Creator, users)
	r.planPerms(meta.Roles, roles, users)
	if _, err := os.Lstat(filepath.Join(r.src, "gl-conf")); err == nil {
		r.notes = append(r.notes, "gl-conf (gitolite's compiled rules for it) is not read: --conf translates gitolite.conf")
	}
}

// planHooks decides whether hooks/ is gitolite's, to be moved aside, and
// notes the hooks that will run under gitserver. It reports false when
// the repository cannot be imported.
func (r *repoImport) planHooks() bool {
	gl, others := gitoliteHooks(filepath.Join(r.src, "hooks"))
	if !gl {
		if len(others) > 0 {
			r.notes = append(r.notes, fmt.Sprintf("hooks/ holds %s but not gitolite's update hook: left in place, gitserver runs them after its own checks", strings.Join(others, ", ")))
		}
		return true
	}
	if _, err := os.Lstat(filepath.Join(r.src, hooksAside)); err == nil {
		r.skip = fmt.Sprintf("both hooks/ and %s/ exist: gitolite's hooks cannot be moved aside", hooksAside)
		return false
	}
	r.hooks = true
	if len(others) > 0 {
		r.notes = append(r.notes, fmt.Sprintf("%s/ will also hold %s: gitserver runs a repository's own hooks, so move back any it should run", hooksAside, strings.Join(others, ", ")))
	}
	return true
}

// maxHooks bounds the entries of a hooks/ directory gitoliteHooks reads.
const maxHooks = 1000

// gitoliteHooks reports whether the hooks directory dir holds gitolite's
// update hook (a symlink to GL_ADMIN_BASE/hooks/common/update, as
// gitolite's update_hook_present checks), and which other hooks there
// are, git's *.sample files aside.
func gitoliteHooks(dir string) (gitolite bool, others []string) {
	f, err := os.Open(dir)
	if err != nil {
		return false, nil
	}
	defer f.Close()
	names, _ := f.Readdirnames(maxHooks)
	slices.Sort(names)
	for _, n := range names {
		if n == "update" {
			t, err := os.Readlink(filepath.Join(dir, n))
			if err == nil && strings.HasSuffix(t, "/hooks/common/update") {
				gitolite = true
				continue
			}
		}
		if !strings.HasSuffix(n, ".sample") {
			others = append(others, n)
		}
	}
	return gitolite, others
}

// planCreator reads gl-creator; had is the creator already recorded.
func (r *repoImport) planCreator(had string, users map[string]bool) {
	creator, err := readRepoFile(r.src, "gl-creator", gitolite.ParseCreator)
	switch {
	case err != nil:
		r.problems = append(r.problems, fmt.Sprintf("%v; no creator recorded", err))
		return
	case creator == "":
		return
	case had != "" && had != creator:
		r.problems = append(r.problems, fmt.Sprintf("gl-creator says %s but %s is %s already; kept", creator, filedriver.CreatorKey, had))
		return
	case had == "":
		r.creator = creator
	}
	if !users[creator] {
		r.notes = append(r.notes, fmt.Sprintf("its creator %s has no key in the keydir", creator))
	}
}

// planPerms reads gl-perms; had are the role members already recorded.
func (r *repoImport) planPerms(had map[string][]string, roles []string, users map[string]bool) {
	var warns []gitolite.Warning
	perms, err := readRepoFile(r.src, "gl-perms", func(f io.Reader) ([]gitolite.Perm, error) {
		p, w, err := gitolite.ParsePerms(f, roles)
		warns = w
		return p, err
	})
	if err != nil {
		r.problems = append(r.problems, fmt.Sprintf("%v; no roles imported", err))
		return
	}
	for _, w := range warns {
		r.problems = append(r.problems, fmt.Sprintf("gl-perms:%d: %s", w.Line, w.Msg))
	}
	for _, pm := range perms {
		if slices.Contains(had[pm.Role], pm.Member) || slices.ContainsFunc(r.perms, func(q gitolite.Perm) bool { return q.Role == pm.Role && q.Member == pm.Member }) {
			continue
		}
		r.perms = append(r.perms, pm)
		if !strings.HasPrefix(pm.Member, "@") && !users[pm.Member] {
			r.notes = append(r.notes, fmt.Sprintf("%s is in %s but has no key in the keydir", pm.Member, pm.Role))
		}
	}
}

// readRepoFile parses the regular file dir/name with parse; a missing
// file is the zero value.
func readRepoFile[T any](dir, name string, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	path := filepath.Join(dir, name)
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return zero, nil
	}
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", name)
	}
	if err != nil {
		return zero, err
	}
	f, err := os.Open(path)
	if err != nil {
		return zero, err
	}
	defer f.Close()
	return parse(f)
}

// print writes the plan to w as comment lines, so that the dry run's
// stdout stays a policy file; problems and notes go to stderr.
func (p *reposPlan) print(e *env, owner string) {
	fmt.Fprintf(e.stdout, "\n# %d repositories in %s:\n", len(p.repos), p.dir)
	for _, r := range p.repos {
		fmt.Fprintf(e.stdout, "# repository %s (%s)\n", r.name, r.src)
		if r.skip != "" {
			fmt.Fprintf(e.stdout, "#   not imported: %s\n", r.skip)
			continue
		}
		for _, s := range r.steps(owner) {
			fmt.Fprintf(e.stdout, "#   %s\n", s)
		}
	}
	p.report(e)
}

// steps are what importRepo does with r, in order.
func (r *repoImport) steps(owner string) []string {
	var s []string
	if r.creator != "" {
		s = append(s, fmt.Sprintf("set %s = %s", filedriver.CreatorKey, r.creator))
	}
	for _, pm := range r.perms {
		s = append(s, fmt.Sprintf("add %s = %s %s", filedriver.RoleKey, pm.Role, pm.Member))
	}
	switch {
	case owner != "" && r.dst != r.src:
		s = append(s, "give it to the ssh user "+owner+" (chown -R)")
	case owner != "":
		s = append(s, "give it, and the directories above it up to the repos root, to the ssh user "+owner+" (chown -R)")
	}
	if r.dst != r.src {
		s = append(s, "move to "+r.dst)
	} else {
		s = append(s, "leave in place (--adopt)")
	}
	if r.hooks {
		s = append(s, "move gitolite's hooks/ to "+hooksAside+"/")
	}
	return s
}

// report writes the problems and notes of the plan to stderr.
func (p *reposPlan) report(e *env) {
	for _, r := range p.repos {
		if r.skip != "" && !r.quiet {
			fmt.Fprintf(e.stderr, "gitserver: %s: %s; not imported\n", r.name, r.skip)
		}
		for _, s := range r.problems {
			fmt.Fprintf(e.stderr, "gitserver: %s: %s\n", r.name, s)
		}
		for _, s := range r.notes {
			fmt.Fprintf(e.stderr, "gitserver: note: %s: %s\n", r.name, s)
		}
	}
}
