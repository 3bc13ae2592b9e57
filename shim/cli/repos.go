package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/internal/lfs"
	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/shim"
)

// ReposCmd groups the repository commands.
type ReposCmd struct {
	Create    ReposCreateCmd    `cmd:"" help:"Create an empty bare repository, owned by the ssh user."`
	List      ReposListCmd      `cmd:"" help:"List the repositories under the repos root."`
	SetHead   ReposSetHeadCmd   `cmd:"" name:"set-head" help:"Point a repository's HEAD (what a clone checks out) at one of its branches."`
	Archive   ReposArchiveCmd   `cmd:"" help:"Make a repository read-only: clone, fetch and archive work, pushes and LFS uploads and locks are refused."`
	Unarchive ReposUnarchiveCmd `cmd:"" help:"Take pushes to an archived repository again."`
}

// ReposArchiveCmd archives a repository.
type ReposArchiveCmd struct {
	Name string `arg:"" help:"Repository name, e.g. team/project." placeholder:"NAME"`
}

// Run sets gitserver.archived in the repository's config.
func (c *ReposArchiveCmd) Run(cli *CLI, e *env) error { return setArchived(cli, e, c.Name, true) }

// ReposUnarchiveCmd unarchives a repository.
type ReposUnarchiveCmd struct {
	Name string `arg:"" help:"Repository name, e.g. team/project." placeholder:"NAME"`
}

// Run removes gitserver.archived from the repository's config.
func (c *ReposUnarchiveCmd) Run(cli *CLI, e *env) error { return setArchived(cli, e, c.Name, false) }

func setArchived(cli *CLI, e *env, n string, on bool) error {
	a, err := loadConfig(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	name, dir, err := existingRepo(a.Cfg.Repos, n)
	if err != nil {
		return err
	}
	git, err := shim.LookGit()
	if err != nil {
		return err
	}
	if err := filedriver.SetArchived(e.ctx, git, dir, on); err != nil {
		return err
	}
	what := "archived (read-only)"
	if !on {
		what = "unarchived: it takes pushes again"
	}
	a.Log.Named("repos").Info("repository "+strings.SplitN(what, " ", 2)[0], "repo", name)
	fmt.Fprintf(e.stdout, "%s: %s\n", name, what)
	return nil
}

// ReposSetHeadCmd points HEAD at a branch.
type ReposSetHeadCmd struct {
	Name   string `arg:"" help:"Repository name, e.g. team/project." placeholder:"NAME"`
	Branch string `arg:"" help:"An existing branch, e.g. main." placeholder:"BRANCH"`
}

// Run checks that the repository and the branch exist and points HEAD at
// the branch.
func (c *ReposSetHeadCmd) Run(cli *CLI, e *env) error {
	ref, ok := shim.BranchRef(c.Branch)
	if !ok {
		return fmt.Errorf("%q is not a valid branch name", c.Branch)
	}
	a, err := loadConfig(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	name, dir, err := existingRepo(a.Cfg.Repos, c.Name)
	if err != nil {
		return err
	}
	git, err := shim.LookGit()
	if err != nil {
		return err
	}
	err = shim.SetHead(e.ctx, git, dir, ref)
	if errors.Is(err, shim.ErrNoBranch) {
		return fmt.Errorf("%s has no branch %s; push it first, or pick one of: git --git-dir=%s branch", name, strings.TrimPrefix(ref, "refs/heads/"), dir)
	}
	if err != nil {
		return err
	}
	a.Log.Named("repos").Info("HEAD set", "repo", name, "head", ref)
	fmt.Fprintf(e.stdout, "%s: HEAD -> %s\n", name, ref)
	return nil
}

// ReposCreateCmd creates a repository.
type ReposCreateCmd struct {
	Name          string `arg:"" help:"Repository name, e.g. team/project (.git is added on disk)." placeholder:"NAME"`
	DefaultBranch string `name:"default-branch" help:"Branch HEAD points at (default: the ssh user's git init.defaultBranch, else main)." placeholder:"BRANCH"`
}

// Run creates REPOS/NAME.git with git init --bare, with receive.fsckObjects
// on so that malformed objects are refused at push time.
func (c *ReposCreateCmd) Run(cli *CLI, e *env) error {
	name, err := shim.CleanName(c.Name)
	if err != nil {
		return err
	}
	a, err := load(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	git, err := shim.LookGit()
	if err != nil {
		return err
	}
	dir := filepath.Join(a.Cfg.Repos, shim.DirName(name))
	branch := c.DefaultBranch
	if branch == "" {
		branch = setup.DefaultBranch(git, a.Owner.Home)
	} else if _, ok := shim.BranchRef(branch); !ok {
		return fmt.Errorf("--default-branch %q is not a valid branch name", branch)
	}
	if err := a.CreateRepo(git, dir, branch, ""); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("repository %s already exists at %s", name, dir)
	} else if err != nil {
		return err
	}
	a.Log.Named("repos").Info("repository created", "repo", name, "dir", dir)
	fmt.Fprintf(e.stdout, "created %s (%s)\n", name, dir)
	return nil
}

// ReposListCmd lists repositories.
type ReposListCmd struct {
	JSON bool `help:"Print JSON, one array."`
}

type repoJSON struct {
	Name    string              `json:"name"`
	Path    string              `json:"path"`
	Creator string              `json:"creator,omitempty"` // who created it by pushing
	Roles   map[string][]string `json:"roles,omitempty"`   // role -> members (perms)
	Error   string              `json:"error,omitempty"`   // its config could not be read
	// LFS objects stored with it (REPO.git/lfs), their bytes, and its
	// LFS locks.
	LFSObjects int   `json:"lfs_objects"`
	LFSBytes   int64 `json:"lfs_bytes"`
	LFSLocks   int   `json:"lfs_locks"`
	Archived   bool  `json:"archived,omitempty"` // read-only
}

// Run walks the repos root; a directory NAME.git with a HEAD is a
// repository, and is not descended into.
func (c *ReposListCmd) Run(cli *CLI, e *env) error {
	a, err := loadConfig(cli) // reading needs no ssh user
	if err != nil {
		return err
	}
	defer a.Close()
	list, err := listRepos(a.Cfg.Repos)
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	for _, r := range list {
		line := r.Name
		if r.Archived {
			line += "\tarchived"
		}
		if r.Creator != "" {
			line += "\tcreator " + r.Creator
		}
		roles := make([]string, 0, len(r.Roles))
		for role := range r.Roles {
			roles = append(roles, role)
		}
		slices.Sort(roles)
		for _, role := range roles {
			line += "\t" + role + " " + strings.Join(r.Roles[role], ",")
		}
		if r.LFSObjects > 0 || r.LFSLocks > 0 {
			line += fmt.Sprintf("\tlfs %d objects %s, %d locks", r.LFSObjects, humanBytes(r.LFSBytes), r.LFSLocks)
		}
		if r.Error != "" {
			line += "\terror: " + r.Error
		}
		fmt.Fprintln(e.stdout, line)
	}
	return nil
}

func listRepos(root string) ([]repoJSON, error) {
	list := []repoJSON{}
	err := filedriver.WalkRepos(root, func(name, dir string) error {
		r := repoJSON{Name: name, Path: dir}
		m, err := filedriver.ReadMeta(dir)
		if err != nil {
			r.Error = err.Error()
		}
		r.Creator, r.Roles, r.Archived = m.Creator, m.Roles, m.Archived
		var lerr error
		r.LFSObjects, r.LFSBytes, lerr = lfs.Usage(dir)
		locks, err := lfs.NewLocks(dir).List()
		r.LFSLocks = len(locks)
		if err = errors.Join(lerr, err); err != nil && r.Error == "" {
			r.Error = "lfs: " + err.Error()
		}
		list = append(list, r)
		return nil
	})
	return list, err
}

// existingRepo checks the repository name n and that root holds it; it
// returns the clean name and the repository's directory.
func existingRepo(root, n string) (name, dir string, err error) {
	if name, err = shim.CleanName(n); err != nil {
		return "", "", err
	}
	dir = filepath.Join(root, shim.DirName(name))
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		return "", "", fmt.Errorf("no repository %s (%s); see 'gitserver repos list'", name, dir)
	}
	return name, dir, nil
}
