package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/internal/setup"
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
	if err := a.MkdirOwned(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := setup.CreateBareRepo(git, dir); err != nil {
		return err
	}
	if err := a.ChownTree(dir); err != nil {
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
