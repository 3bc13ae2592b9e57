package filedriver

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/policy"
)

// ErrNotMember is returned by RemoveRoleMember for a member the role does
// not have.
var ErrNotMember = errors.New("filedriver: not a member of that role")

// AddRoleMember records member (a user, "@group" or "@all") in role in
// the repository at dir, as a gitserver.role value. Adding a member the
// role already has changes nothing. git config writes the file under its
// lock, so concurrent changes are never lost: one of them fails instead,
// and can be tried again.
func AddRoleMember(ctx context.Context, git, dir, role, member string) error {
	if err := policy.CheckRoleMember(role, member); err != nil {
		return err
	}
	m, err := ReadMeta(dir)
	if err != nil {
		return err
	}
	if slices.Contains(m.Roles[role], member) {
		return nil
	}
	return gitConfig(ctx, git, dir, "--add", RoleKey, role+" "+member)
}

// RemoveRoleMember removes member from role in the repository at dir, or
// returns ErrNotMember.
func RemoveRoleMember(ctx context.Context, git, dir, role, member string) error {
	if err := policy.CheckRoleMember(role, member); err != nil {
		return err
	}
	err := gitConfig(ctx, git, dir, "--fixed-value", "--unset-all", RoleKey, role+" "+member)
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 5 {
		return ErrNotMember
	}
	return err
}

// SetCreator records user as the creator of the repository at dir
// (gitserver.creator), replacing any earlier one.
func SetCreator(ctx context.Context, git, dir, user string) error {
	if err := keys.ValidUsername(user); err != nil {
		return err
	}
	return gitConfig(ctx, git, dir, CreatorKey, user)
}

// SetArchived archives the repository at dir (read-only: clones and
// fetches work, pushes and LFS uploads are refused) or, with on false,
// unarchives it.
func SetArchived(ctx context.Context, git, dir string, on bool) error {
	if on {
		return gitConfig(ctx, git, dir, "--bool", ArchivedKey, "true")
	}
	err := gitConfig(ctx, git, dir, "--unset-all", ArchivedKey)
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 5 {
		return nil // it was not archived
	}
	return err
}

// gitConfig runs "git config --file DIR/config ARGS...", with nothing of
// the caller's environment.
func gitConfig(ctx context.Context, git, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, git, append([]string{"config", "--file", filepath.Join(dir, "config")}, args...)...)
	cmd.Env = []string{"GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return &gitConfigError{args: args, out: strings.TrimSpace(string(out)), err: err}
	}
	return nil
}

type gitConfigError struct {
	args []string
	out  string
	err  error
}

func (e *gitConfigError) Error() string {
	return fmt.Sprintf("git config %s: %v: %s", strings.Join(e.args, " "), e.err, e.out)
}
func (e *gitConfigError) Unwrap() error { return e.err }
