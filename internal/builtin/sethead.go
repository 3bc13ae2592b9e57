package builtin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gitserver/gitserver/shim"
)

// MsgSetHeadNotAdmin is what a non-admin's set-head gets.
const MsgSetHeadNotAdmin = "gitserver: permission denied (set-head needs admin access)"

// setHead runs "set-head REPO BRANCH": an admin points a repository's
// HEAD at one of its branches, as 'gitserver repos set-head' does. A
// repository that does not exist and a branch that does not exist get
// short answers; nothing about paths.
func setHead(ctx context.Context, e Env) error {
	_, pol, err := backend(e)
	if err != nil {
		return err
	}
	if !pol.IsAdmin(e.User) {
		return fail(e, MsgSetHeadNotAdmin, errors.New("set-head by a non-admin"))
	}
	dir := filepath.Join(e.Root, shim.DirName(e.Cmd.Repo))
	real, err := shim.Within(e.Root, dir)
	if err == nil {
		_, err = os.Stat(filepath.Join(real, "HEAD"))
	}
	if err != nil {
		return fail(e, shim.MsgDenied, fmt.Errorf("set-head %s: %w", e.Cmd.Repo, err))
	}
	git, err := shim.LookGit()
	if err != nil {
		return fail(e, shim.MsgUnavailable, err)
	}
	err = shim.SetHead(ctx, git, real, e.Cmd.Branch)
	if errors.Is(err, shim.ErrNoBranch) {
		return fail(e, "gitserver: no such branch; push it first", err)
	}
	if err != nil {
		return fail(e, shim.MsgUnavailable, err)
	}
	_, err = fmt.Fprintf(e.Stdout, "%s: HEAD -> %s\n", e.Cmd.Repo, e.Cmd.Branch)
	return err
}
