package builtin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/policy"
	"github.com/gitserver/gitserver/shim"
)

// MsgPermsDenied is what perms answers for a repository that does not
// exist and for one the user may not manage, alike, as gitolite's perms
// does ("repo does not exist, or you are not authorised").
const MsgPermsDenied = "gitserver: repository does not exist, or you are not authorised"

// errPermsDenied is the logged reason for a refused perms.
var errPermsDenied = errors.New("perms by neither the creator nor an admin")

// perms runs "perms REPO [-l | -lr | +|- ROLE MEMBER]": the repository's
// creator or an admin lists or changes who holds which role there, as
// gitolite's perms does. The change decides the next request of the
// member, since the file driver reads the roles on every request.
func perms(ctx context.Context, e Env) error {
	b, pol, err := backend(e)
	if err != nil {
		return err
	}
	dir, meta, err := permsRepo(e, pol)
	if err != nil {
		return err
	}
	switch e.Cmd.Sub {
	case shim.PermsList:
		return permsList(e, pol, meta)
	case shim.PermsRoles:
		return permsRoles(e, pol)
	case shim.PermsAdd, shim.PermsRemove:
		return permsChange(ctx, e, b, pol, dir, meta)
	}
	return fail(e, shim.MsgBadBuiltin, fmt.Errorf("unknown perms subcommand %q", e.Cmd.Sub))
}

// permsRepo finds e.Cmd.Repo and checks that the user may manage it: its
// creator or an admin. A missing repository and one the user may not
// manage get the same MsgPermsDenied; only an admin hears that an
// existing repository's config cannot be read.
func permsRepo(e Env, pol *policy.Policy) (string, filedriver.Meta, error) {
	admin := pol.IsAdmin(e.User)
	dir := filepath.Join(e.Root, shim.DirName(e.Cmd.Repo))
	real, err := shim.Within(e.Root, dir)
	if err == nil {
		_, err = os.Stat(filepath.Join(real, "HEAD"))
	}
	if err != nil {
		return "", filedriver.Meta{}, fail(e, MsgPermsDenied, fmt.Errorf("perms %s: %w", e.Cmd.Repo, err))
	}
	meta, err := filedriver.ReadMeta(real)
	switch {
	case err != nil && admin:
		return "", meta, fail(e, shim.MsgUnavailable, err)
	case err != nil:
		return "", meta, fail(e, MsgPermsDenied, err)
	case !admin && (meta.Creator == "" || meta.Creator != e.User):
		return "", meta, fail(e, MsgPermsDenied, errPermsDenied)
	}
	return real, meta, nil
}

// permsList prints one "ROLE MEMBER" line per member: the declared roles
// in policy order, then any others the repository still holds (the
// policy ignores those), by name; members in the order they were added.
func permsList(e Env, pol *policy.Policy, meta filedriver.Meta) error {
	roles := slices.Clone(pol.Roles)
	var other []string
	for r := range meta.Roles {
		if !pol.HasRole(r) {
			other = append(other, r)
		}
	}
	sort.Strings(other)
	var b strings.Builder
	for _, r := range append(roles, other...) {
		for _, m := range meta.Roles[r] {
			fmt.Fprintf(&b, "%s %s\n", r, m)
		}
	}
	_, err := fmt.Fprint(e.Stdout, b.String())
	return err
}

// permsRoles prints the roles the policy declares, one a line.
func permsRoles(e Env, pol *policy.Policy) error {
	if len(pol.Roles) == 0 {
		fmt.Fprintln(e.Stderr, "gitserver: this server declares no roles")
		return nil
	}
	_, err := fmt.Fprintln(e.Stdout, strings.Join(pol.Roles, "\n"))
	return err
}

// permsChange adds or removes e.Cmd.Member in e.Cmd.Role, which the
// policy must declare.
func permsChange(ctx context.Context, e Env, b Backend, pol *policy.Policy, dir string, meta filedriver.Meta) error {
	role, member := e.Cmd.Role, e.Cmd.Member
	if !pol.HasRole(role) {
		return fail(e, unknownRole(pol, role), fmt.Errorf("perms: role %q is not declared", role))
	}
	git, err := shim.LookGit()
	if err != nil {
		return fail(e, shim.MsgUnavailable, err)
	}
	if e.Cmd.Sub == shim.PermsRemove {
		err = filedriver.RemoveRoleMember(ctx, git, dir, role, member)
		if errors.Is(err, filedriver.ErrNotMember) {
			return fail(e, fmt.Sprintf("gitserver: %s is not in role %s here", member, role), err)
		}
		if err != nil {
			return fail(e, shim.MsgUnavailable, err)
		}
		_, err = fmt.Fprintf(e.Stdout, "%s: - %s %s\n", e.Cmd.Repo, role, member)
		return err
	}
	if slices.Contains(meta.Roles[role], member) {
		_, err = fmt.Fprintf(e.Stdout, "%s: %s %s was already there\n", e.Cmd.Repo, role, member)
		return err
	}
	if err := filedriver.AddRoleMember(ctx, git, dir, role, member); err != nil {
		return fail(e, shim.MsgUnavailable, err)
	}
	noteKeyless(e, b, member)
	_, err = fmt.Fprintf(e.Stdout, "%s: + %s %s\n", e.Cmd.Repo, role, member)
	return err
}

// unknownRole is the client's message for a role the policy lacks.
func unknownRole(pol *policy.Policy, role string) string {
	if len(pol.Roles) == 0 {
		return fmt.Sprintf("gitserver: unknown role %s; this server declares no roles", strconv.Quote(role))
	}
	return fmt.Sprintf("gitserver: unknown role %s; roles here: %s", strconv.Quote(role), strings.Join(pol.Roles, ", "))
}

// noteKeyless tells the client when member is a user without a key: the
// role is kept, and applies once the user has one.
func noteKeyless(e Env, b Backend, member string) {
	if strings.HasPrefix(member, "@") {
		return
	}
	if ok, err := b.KeyStore().HasUser(member); err == nil && !ok {
		fmt.Fprintf(e.Stderr, "gitserver: note: %s has no key here yet; the role applies once they have one\n", member)
	}
}
