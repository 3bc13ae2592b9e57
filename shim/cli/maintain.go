package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitserver/gitserver/internal/maintain"
	"github.com/gitserver/gitserver/shim"
)

// MaintainCmd maintains repositories.
type MaintainCmd struct {
	Repos   []string      `arg:"" optional:"" help:"Repository names, e.g. team/app." placeholder:"REPO"`
	All     bool          `help:"Every repository under the repos root."`
	ForceGC bool          `name:"force-gc" help:"Run a full git gc (default expiry) whatever the repository's state."`
	DryRun  bool          `name:"dry-run" help:"Say what each repository needs; run nothing."`
	Timeout time.Duration `default:"1h" help:"Stop maintaining one repository after this long."`
	Wait    bool          `help:"Wait for another 'gitserver maintain' on this host to end, instead of leaving at once."`
}

// Validate wants repositories or --all, not both.
func (c *MaintainCmd) Validate() error {
	if c.All == (len(c.Repos) > 0) {
		return fmt.Errorf("name repositories or give --all (not both)")
	}
	return nil
}

// Run maintains each repository in turn, nice and idle for I/O, as the
// ssh user, one at a time on this host.
func (c *MaintainCmd) Run(cli *CLI, e *env) error {
	a, err := loadConfig(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	git, err := shim.LookGit()
	if err != nil {
		return err
	}
	log := a.Log.Named("maintain")
	if err := maintain.Lower(); err != nil {
		log.Warn("cannot lower maintenance's CPU and I/O priority", "error", err)
	}
	uid, gid := maintain.OwnerOf(a.Cfg.DataDir)
	unlock, err := maintain.LockHost(filepath.Join(a.Cfg.DataDir, "maintain.lock"), c.Wait, uid, gid)
	if err != nil {
		return err
	}
	defer unlock()
	targets, err := repoTargets(a.Cfg.Repos, c.All, c.Repos)
	if err != nil {
		return err
	}
	o := maintain.Options{Git: git, Env: []string{"PATH=" + shim.SafePath, "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1"},
		Timeout: c.Timeout, Force: c.ForceGC, DryRun: c.DryRun, Now: time.Now}
	failed := 0
	for _, t := range targets {
		res, err := maintain.Run(e.ctx, t.Name, t.Path, o)
		switch {
		case errors.Is(err, maintain.ErrBusy):
			fmt.Fprintf(e.stdout, "%s: busy (being maintained by another run)\n", t.Name)
			continue
		case err != nil:
			failed++
			log.Error("maintenance failed", "repo", t.Name, "error", err)
			fmt.Fprintf(e.stderr, "gitserver: %s: %v\n", t.Name, err)
			continue
		}
		if len(res.Removed) > 0 {
			log.Warn("removed what a killed maintenance run left", "repo", t.Name, "files", fmt.Sprint(res.Removed))
			fmt.Fprintf(e.stdout, "%s: removed what a killed run left: %s\n", t.Name, strings.Join(res.Removed, " "))
		}
		fmt.Fprintln(e.stdout, summary(t.Name, res, c.DryRun))
		if len(res.Tasks) > 0 && !c.DryRun {
			log.Info("maintained", "repo", t.Name, "tasks", fmt.Sprint(res.Tasks), "loose", res.Before.Loose, "loose_after", res.After.Loose,
				"packs", res.Before.Packs, "packs_after", res.After.Packs, "duration", res.Duration)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d repositories failed; see the log", failed, len(targets))
	}
	return nil
}

// repoTargets is every repository under root when all is set, else the
// named ones, each checked to exist before any is worked on.
func repoTargets(root string, all bool, names []string) ([]repoJSON, error) {
	if all {
		return listRepos(root)
	}
	var out []repoJSON
	for _, n := range names {
		name, dir, err := existingRepo(root, n)
		if err != nil {
			return nil, err
		}
		out = append(out, repoJSON{Name: name, Path: dir})
	}
	return out, nil
}

func summary(name string, res maintain.Result, dry bool) string {
	if len(res.Tasks) == 0 {
		return fmt.Sprintf("%s: in shape (%d loose objects, %d packs)", name, res.Before.Loose, res.Before.Packs)
	}
	tasks := make([]string, len(res.Tasks))
	for i, t := range res.Tasks {
		tasks[i] = string(t)
	}
	if dry {
		return fmt.Sprintf("%s: would run %s (%d loose objects, %d packs)", name, strings.Join(tasks, ", "), res.Before.Loose, res.Before.Packs)
	}
	return fmt.Sprintf("%s: ran %s: loose objects %d -> %d, packs %d -> %d, in %v", name, strings.Join(tasks, ", "),
		res.Before.Loose, res.After.Loose, res.Before.Packs, res.After.Packs, res.Duration.Round(time.Millisecond))
}
