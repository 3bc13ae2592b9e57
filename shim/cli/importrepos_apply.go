package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gitserver/gitserver/internal/bounded"
	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/internal/gitolite"
	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/internal/sshdconf"
	"github.com/gitserver/gitserver/shim"
)

// metaTmp is the directory, inside a repository, where writeMeta
// prepares its new config. A killed run leaves it; the next removes it.
const metaTmp = "gitserver-import.tmp"

// maxImportConfig bounds the config writeMeta copies, as
// filedriver.ReadMeta bounds what it reads.
const maxImportConfig = 1 << 20

// importRepos imports every repository of the plan that has no problem,
// printing a line for each and a summary. It returns how many
// repositories or parts of them were not imported.
func (a *app) importRepos(e *env, p *reposPlan) (int, error) {
	git, err := shim.LookGit()
	if err != nil {
		return 0, err
	}
	p.report(e)
	bad, done := p.problems(), 0
	for _, r := range p.repos {
		if r.skip != "" {
			continue
		}
		if err := a.importRepo(e.ctx, git, p, r); err != nil {
			fmt.Fprintf(e.stderr, "gitserver: %s: %v\n", r.name, err)
			a.Log.Named("import").Error("gitolite repository not imported", "repo", r.name, "src", r.src, "error", err)
			bad++
			continue
		}
		done++
		a.Log.Named("import").Info("gitolite repository imported", "repo", r.name, "src", r.src, "dir", r.dst, "creator", r.creator, "role_members", len(r.perms))
		fmt.Fprintf(e.stdout, "imported %s into %s%s\n", r.name, r.dst, r.done())
	}
	fmt.Fprintf(e.stdout, "imported %d of the %d repositories in %s; %d repositories or parts of them not imported\n", done, len(p.repos), p.dir, bad)
	return bad, nil
}

// importRepo imports one repository, in the order the comment at the top
// of importrepos.go explains: metadata, owner, move, hooks.
func (a *app) importRepo(ctx context.Context, git string, p *reposPlan, r *repoImport) error {
	if err := writeMeta(ctx, git, r.src, r.creator, r.perms); err != nil {
		return fmt.Errorf("recording its creator and roles: %w; not imported, left as it was", err)
	}
	if err := a.ChownTree(r.src); err != nil {
		return fmt.Errorf("giving it to the ssh user: %w; not imported, still in %s", err, p.dir)
	}
	if p.adopt {
		for d := filepath.Dir(r.src); sshdconf.Inside(d, p.root); d = filepath.Dir(d) {
			a.Owner.Chown(d)
		}
	} else {
		if err := a.MkdirOwned(filepath.Dir(r.dst)); err != nil {
			return fmt.Errorf("%w; not imported, still in %s", err, p.dir)
		}
		if err := setup.RenameNoReplace(r.src, r.dst); err != nil {
			return moveError(err, r.dst, p.dir)
		}
		if err := syncPath(filepath.Dir(r.dst)); err != nil {
			return fmt.Errorf("moved to %s, but: %w", r.dst, err)
		}
	}
	if r.hooks {
		if err := setup.RenameNoReplace(filepath.Join(r.dst, "hooks"), filepath.Join(r.dst, hooksAside)); err != nil {
			return fmt.Errorf("%s is in place, but gitolite's hooks/ could not be moved aside, so pushes to it fail (%w); run the import again with --repos %s --adopt", r.dst, err, p.root)
		}
	}
	return nil
}

// done says what importRepo recorded and moved, after the repository's
// place.
func (r *repoImport) done() string {
	var s []string
	if r.creator != "" {
		s = append(s, "creator "+r.creator)
	}
	if len(r.perms) > 0 {
		s = append(s, fmt.Sprintf("%d role member(s)", len(r.perms)))
	}
	if r.hooks {
		s = append(s, "hooks/ moved to "+hooksAside+"/")
	}
	if len(s) == 0 {
		return ""
	}
	return ": " + strings.Join(s, ", ")
}

// moveError explains a failed move of a repository to dst.
func moveError(err error, dst, dir string) error {
	switch {
	case errors.Is(err, syscall.EXDEV):
		return fmt.Errorf("%s is on another filesystem, so it cannot be moved (renamed) there; not imported, still in %s; use --adopt, or copy the repositories to the repos root's filesystem first", dst, dir)
	case errors.Is(err, fs.ErrExist), errors.Is(err, syscall.ENOTEMPTY):
		return fmt.Errorf("conflict: %s appeared meanwhile and is never overwritten; not imported, still in %s", dst, dir)
	}
	return fmt.Errorf("%w; not imported, still in %s", err, dir)
}

// writeMeta records creator (unless "") and perms in dir/config at once:
// it copies the config into dir/metaTmp, changes the copy with git config,
// reads it back as gitserver reads it (filedriver.ReadMeta), gives it the
// old file's owner and mode and renames it over the old file. Killed
// before that rename, the config is as it was.
func writeMeta(ctx context.Context, git, dir, creator string, perms []gitolite.Perm) error {
	if creator == "" && len(perms) == 0 {
		return nil
	}
	tmp := filepath.Join(dir, metaTmp)
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cfg, newCfg := filepath.Join(dir, "config"), filepath.Join(tmp, "config")
	fi, err := copyConfig(cfg, newCfg)
	if err != nil {
		return err
	}
	if creator != "" {
		if err := filedriver.SetCreator(ctx, git, tmp, creator); err != nil {
			return err
		}
	}
	for _, pm := range perms {
		if err := filedriver.AddRoleMember(ctx, git, tmp, pm.Role, pm.Member); err != nil {
			return err
		}
	}
	if m, err := filedriver.ReadMeta(tmp); err != nil {
		return err
	} else if creator != "" && m.Creator != creator {
		return fmt.Errorf("%s reads back as %q, not %q", filedriver.CreatorKey, m.Creator, creator)
	}
	if err := sameOwnerMode(newCfg, fi); err != nil {
		return err
	}
	if err := syncPath(newCfg); err != nil {
		return err
	}
	if err := os.Rename(newCfg, cfg); err != nil {
		return err
	}
	return syncPath(dir)
}

// copyConfig copies the config file src (at most maxImportConfig bytes)
// to dst and returns src's FileInfo.
func copyConfig(src, dst string) (fs.FileInfo, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", src)
	}
	data, err := bounded.ReadAll(f, maxImportConfig, src)
	if err != nil {
		return nil, err
	}
	return fi, os.WriteFile(dst, data, 0o600)
}

// sameOwnerMode gives path the owner (when root) and mode of fi.
func sameOwnerMode(path string, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
		if err := os.Lchown(path, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
	}
	return os.Chmod(path, fi.Mode().Perm())
}

// syncPath flushes the file or directory at path to disk.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
