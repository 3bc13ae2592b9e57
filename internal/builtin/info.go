package builtin

import (
	"context"
	"fmt"

	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/policy"
	"github.com/gitserver/gitserver/shim"
)

// maxInfoRepos bounds the repositories info looks at.
const maxInfoRepos = 100000

// info prints the repositories under the root the user can read, with
// their R W F flags, then (without a pattern) the patterns the user may
// create repositories in, flagged C, as gitolite's info does.
func info(ctx context.Context, e Env) error {
	_, pol, err := backend(e)
	if err != nil {
		return err
	}
	var glob *policy.Glob
	if e.Cmd.Arg != "" {
		if glob, err = policy.CompileGlob(e.Cmd.Arg); err != nil {
			return fail(e, "gitserver: invalid pattern (use letters, digits, ._+@-, / and * or **)", err)
		}
	}
	fmt.Fprintf(e.Stdout, "hello %s, this is gitserver\n\n", e.User)
	n := 0
	err = filedriver.WalkRepos(e.Root, func(name, dir string) error {
		if n++; n > maxInfoRepos {
			return fmt.Errorf("more than %d repositories", maxInfoRepos)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if glob != nil && !glob.Match(name) {
			return nil
		}
		if flags, archived := repoFlags(pol, e.User, name, dir); flags != "" && archived {
			fmt.Fprintf(e.Stdout, "%s\t%s\tarchived (read-only)\n", flags, name)
		} else if flags != "" {
			fmt.Fprintf(e.Stdout, "%s\t%s\n", flags, name)
		}
		return nil
	})
	if err != nil {
		return fail(e, shim.MsgUnavailable, err)
	}
	if glob == nil {
		for _, p := range pol.CreatePatterns(e.User) {
			fmt.Fprintf(e.Stdout, "%s\t%s\n", flagString(false, false, false, true), p)
		}
	}
	return nil
}

// repoFlags is the flags column for an existing repository, or "" when
// the user cannot read it, and whether it is archived.
func repoFlags(pol *policy.Policy, user, name, dir string) (string, bool) {
	meta, _ := filedriver.ReadMeta(dir)
	can := func(a policy.Access) bool {
		return pol.Check(policy.Request{User: user, Repo: name, Creator: meta.Creator, Roles: meta.Roles, Want: a}).Allow
	}
	if !can(policy.Read) {
		return "", false
	}
	return flagString(true, can(policy.Write), can(policy.Force), false), meta.Archived
}

// flagString is " R W F C" with a blank pair for each flag not set.
func flagString(r, w, f, c bool) string {
	s := ""
	for i, set := range []bool{r, w, f, c} {
		if set {
			s += " " + string("RWFC"[i])
		} else {
			s += "  "
		}
	}
	return s
}
