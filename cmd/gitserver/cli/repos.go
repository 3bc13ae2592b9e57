package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/shim"
)

// ReposCmd groups the repository commands.
type ReposCmd struct {
	Create ReposCreateCmd `cmd:"" help:"Create an empty bare repository, owned by the ssh user."`
	List   ReposListCmd   `cmd:"" help:"List the repositories under the repos root."`
}

// ReposCreateCmd creates a repository.
type ReposCreateCmd struct {
	Name string `arg:"" help:"Repository name, e.g. team/project (.git is added on disk)." placeholder:"NAME"`
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
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("repository %s already exists at %s", name, dir)
	}
	if err := a.mkdirOwned(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := createBareRepo(git, dir); err != nil {
		return err
	}
	if err := a.chownTree(dir); err != nil {
		return err
	}
	a.Log.Named("repos").Info("repository created", "repo", name, "dir", dir)
	fmt.Fprintf(e.stdout, "created %s (%s)\n", name, dir)
	return nil
}

// createOnPush returns the shim's Create: the same steps as 'repos
// create', and the creator recorded in the repository's config.
func (a *app) createOnPush(git string) func(ctx context.Context, name, dir, user string) error {
	return func(_ context.Context, name, dir, user string) error {
		if _, err := os.Lstat(dir); err == nil {
			return fmt.Errorf("%s exists but is not a repository", dir)
		}
		if err := a.mkdirOwned(filepath.Dir(dir)); err != nil {
			return err
		}
		if err := createBareRepo(git, dir); err != nil {
			return err
		}
		out, err := exec.Command(git, "config", "--file", filepath.Join(dir, "config"), filedriver.CreatorKey, user).CombinedOutput()
		if err != nil {
			return fmt.Errorf("git config %s: %v: %s", filedriver.CreatorKey, err, out)
		}
		if err := a.chownTree(dir); err != nil {
			return err
		}
		a.Log.Named("repos").Info("repository created on push", "repo", name, "creator", user, "dir", dir)
		return nil
	}
}

// mkdirOwned creates dir and its missing parents inside the repos root,
// each owned by the ssh user.
func (a *app) mkdirOwned(dir string) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		missing = append(missing, d)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		a.Owner.Chown(missing[i])
	}
	return nil
}

// chownTree gives a new repository to the ssh user.
func (a *app) chownTree(dir string) error {
	if a.Owner.UID < 0 {
		return nil
	}
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, a.Owner.UID, a.Owner.GID)
	})
}

// ReposListCmd lists repositories.
type ReposListCmd struct {
	JSON bool `help:"Print JSON, one array."`
}

type repoJSON struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Creator string `json:"creator,omitempty"` // who created it by pushing
}

// Run walks the repos root; a directory NAME.git with a HEAD is a
// repository, and is not descended into.
func (c *ReposListCmd) Run(cli *CLI, e *env) error {
	a, err := load(cli)
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
		if r.Creator != "" {
			fmt.Fprintf(e.stdout, "%s\tcreator %s\n", r.Name, r.Creator)
		} else {
			fmt.Fprintln(e.stdout, r.Name)
		}
	}
	return nil
}

func listRepos(root string) ([]repoJSON, error) {
	list := []repoJSON{}
	err := filedriver.WalkRepos(root, func(name, dir string) error {
		creator, _ := filedriver.ReadCreator(dir)
		list = append(list, repoJSON{Name: name, Path: dir, Creator: creator})
		return nil
	})
	return list, err
}
