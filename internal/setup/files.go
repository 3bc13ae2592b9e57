package setup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gitserver/gitserver/internal/exe"
	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/internal/hooks"
	"github.com/gitserver/gitserver/shim"
)

// EnsureHooks writes gitserver's hooks directory for this program and
// config and returns it.
func (a *App) EnsureHooks() (string, error) {
	bin, err := exe.Self()
	if err != nil {
		return "", err
	}
	return hooks.Ensure(hooks.Dir(a.Cfg.DataDir), bin, a.Cfg.File)
}

// HooksFor is the shim's Hooks, for driver d: the hooks directory for a
// push to the repository name at dir (hooks.For), written first if need
// be. With ensured, the directory is taken as written (serve writes it
// once at start). The push runs the post-receive hook that queues webhook
// deliveries only when d's policy in force has a webhook for name.
func (a *App) HooksFor(ensured string, d shim.Driver) func(name, dir string) (string, error) {
	return func(name, dir string) (string, error) {
		hooksDir := ensured
		if hooksDir == "" {
			var err error
			if hooksDir, err = a.EnsureHooks(); err != nil {
				return "", err
			}
		}
		return hooks.For(hooksDir, dir, wantsWebhooks(d, name)), nil
	}
}

// webhookPolicy is a driver whose policy may hold webhooks: the file
// driver (see filedriver.Driver.HasWebhook).
type webhookPolicy interface {
	HasWebhook(repo string) bool
}

// wantsWebhooks reports whether a push to repo must queue webhook
// deliveries: only a driver with a webhook policy has any.
func wantsWebhooks(d shim.Driver, repo string) bool {
	w, ok := d.(webhookPolicy)
	return ok && w.HasWebhook(repo)
}

// CreateBareRepo is what 'gitserver repos create' runs: git init --bare,
// with receive.fsckObjects on so that malformed objects are refused.
// branch is the branch HEAD points at ("" for DefaultBranch("")).
func CreateBareRepo(git, dir, branch string) error {
	if branch == "" {
		branch = DefaultBranch(git, "")
	}
	for _, args := range [][]string{
		{"init", "--bare", "--quiet", "--initial-branch=" + branch, dir},
		{"-C", dir, "config", "receive.fsckObjects", "true"},
	} {
		out, err := exec.Command(git, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("git %s: %v: %s", args[0], err, bytes.TrimSpace(out))
		}
	}
	return nil
}

// CreateOnPush returns the shim's Create: CreateRepo with the pushing
// user as the creator.
func (a *App) CreateOnPush(git string) func(ctx context.Context, name, dir, user string) error {
	return func(_ context.Context, name, dir, user string) error {
		if err := a.CreateRepo(git, dir, DefaultBranch(git, a.Owner.Home), user); err != nil {
			return err
		}
		a.Log.Named("repos").Info("repository created on push", "repo", name, "creator", user, "dir", dir)
		return nil
	}
}

// CreateRepo creates the bare repository dir, with HEAD on branch and
// creator ("" for none) recorded, owned by the ssh user, atomically: it
// is made complete in a temporary directory beside dir (".NAME.git.creating-*")
// and renamed into place without replacing anything. So two requests
// creating the same repository at once, on this host or on two frontends
// sharing the repos root, never both succeed: the one that loses gets an
// error wrapping fs.ErrExist, and the repository the winner made, with its
// creator, is the one that exists. The shared filesystem must make
// rename atomic and refuse to rename over a non-empty directory (POSIX
// local filesystems, NFSv3/v4, CephFS and EFS do).
func (a *App) CreateRepo(git, dir, branch, creator string) error {
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("%s: %w", dir, fs.ErrExist)
	}
	parent := filepath.Dir(dir)
	if err := a.MkdirOwned(parent); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".creating-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // gone once renamed; a leftover after a crash holds no repository
	if err := CreateBareRepo(git, tmp, branch); err != nil {
		return err
	}
	if creator != "" {
		if err := filedriver.SetCreator(context.Background(), git, tmp, creator); err != nil {
			return err
		}
	}
	// MkdirTemp made it 0700; give it the mode git gave its own
	// directories, which follows the umask.
	fi, err := os.Stat(filepath.Join(tmp, "objects"))
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp, fi.Mode().Perm()); err != nil {
		return err
	}
	if err := a.ChownTree(tmp); err != nil {
		return err
	}
	if err := RenameNoReplace(tmp, dir); err != nil {
		if errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.ENOTEMPTY) {
			return fmt.Errorf("%s: created by another request first: %w", dir, fs.ErrExist)
		}
		return err
	}
	return nil
}

// MkdirOwned creates dir and its missing parents, each owned by the ssh
// user.
func (a *App) MkdirOwned(dir string) error {
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

// ChownTree gives a new repository to the ssh user.
func (a *App) ChownTree(dir string) error {
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

// DefaultBranch is the branch a new repository's HEAD points at: git's
// init.defaultBranch as the user whose home is home has configured it
// (the ssh user's, not root's, though root runs 'repos create'), else
// "main". A configured name that is not a valid branch is ignored.
func DefaultBranch(git, home string) string {
	if home != "" {
		cmd := exec.Command(git, "config", "--global", "--get", "init.defaultBranch")
		cmd.Env = []string{"PATH=" + shim.SafePath, "HOME=" + home, "GIT_CONFIG_NOSYSTEM=1"}
		if out, err := cmd.Output(); err == nil {
			if b := string(bytes.TrimSpace(out)); validBranch(b) {
				return b
			}
		}
	}
	return "main"
}

func validBranch(b string) bool {
	_, ok := shim.BranchRef(b)
	return ok && !strings.HasPrefix(b, "refs/")
}
