package cli

import (
	"fmt"
	"time"

	"github.com/gitserver/gitserver/internal/lfs"
	"github.com/gitserver/gitserver/shim"
)

// LFSCmd groups the Git LFS commands.
type LFSCmd struct {
	GC LFSGCCmd `cmd:"" name:"gc" help:"Remove LFS objects that no ref of the repository reaches, once older than the grace period."`
}

// LFSGCCmd collects a repository's unreferenced LFS objects.
type LFSGCCmd struct {
	Repos  []string      `arg:"" optional:"" help:"Repository names, e.g. team/assets." placeholder:"REPO"`
	All    bool          `help:"Every repository under the repos root."`
	Grace  time.Duration `default:"168h" help:"Keep unreferenced objects younger than this (git-lfs uploads before the push that references them); at least 1h."`
	DryRun bool          `name:"dry-run" help:"Say what would be removed; remove nothing."`
}

// Validate wants repositories or --all, not both.
func (c *LFSGCCmd) Validate() error {
	if c.All == (len(c.Repos) > 0) {
		return fmt.Errorf("name repositories or give --all (not both)")
	}
	if c.Grace < lfs.MinGrace {
		return fmt.Errorf("--grace %v is shorter than %v: an object uploaded for a push still in flight could go", c.Grace, lfs.MinGrace)
	}
	return nil
}

// Run collects each repository in turn and says what it removed.
func (c *LFSGCCmd) Run(cli *CLI, e *env) error {
	a, err := loadConfig(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	git, err := shim.LookGit()
	if err != nil {
		return err
	}
	targets, err := repoTargets(a.Cfg.Repos, c.All, c.Repos)
	if err != nil {
		return err
	}
	opts := lfs.GCOptions{Git: git, Env: []string{"PATH=" + shim.SafePath, "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1"},
		Grace: c.Grace, DryRun: c.DryRun, Now: time.Now()}
	verb := "removed"
	if c.DryRun {
		verb = "would remove"
	}
	log := a.Log.Named("lfs")
	for _, t := range targets {
		name := t.Name
		res, err := lfs.GC(e.ctx, t.Path, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		log.Info("lfs gc", "repo", name, "dry_run", c.DryRun, "referenced", res.Referenced, "removed", res.Removed,
			"removed_bytes", res.RemovedBytes, "young", res.Young, "temps", res.Temps)
		fmt.Fprintf(e.stdout, "%s: %s %d objects (%s), kept %d referenced and %d younger than %v; %d leftover upload files\n",
			name, verb, res.Removed, humanBytes(res.RemovedBytes), res.Referenced, res.Young, c.Grace, res.Temps)
	}
	return nil
}

// humanBytes is n in B, KiB, MiB or GiB.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
