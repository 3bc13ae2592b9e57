package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/policy"
	"github.com/gitserver/gitserver/shim"
	"github.com/hashicorp/go-hclog"
)

// AccessCmd explains a policy decision, as the file driver would make it.
type AccessCmd struct {
	User  string `arg:"" help:"User name." placeholder:"USER"`
	Repo  string `arg:"" help:"Repository, as a client would name it (owner/repo, /owner/repo.git)." placeholder:"REPO"`
	Level string `arg:"" optional:"" default:"read" enum:"read,write,force,create,admin" help:"Access wanted: read (clone, fetch, archive), write (push, fast-forward), force (rewind, delete), create (create by pushing) or admin. Default read."`
	Ref   string `help:"Decide one pushed ref update (write: create, or fast-forward a branch; force: rewind, delete, or move a tag); a bare name is a branch." placeholder:"REF"`
}

// Validate refuses --ref with a level that no ref update needs.
func (c *AccessCmd) Validate() error {
	if c.Ref != "" && c.Level != "write" && c.Level != "force" {
		return fmt.Errorf("--ref needs write or force (reads ignore ref rules)")
	}
	return nil
}

// Run prints the decision a real request would meet, with the rule (file:line)
// that made it and why; the exit code is 0 for allow and 1 for deny, for
// scripts.
func (c *AccessCmd) Run(cli *CLI, e *env) error {
	if err := keys.ValidUsername(c.User); err != nil {
		return err
	}
	name, err := shim.CleanName(c.Repo)
	if err != nil {
		return err
	}
	want, err := policy.ParseAccess(c.Level)
	if err != nil {
		return err
	}
	a, err := load(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	pol, err := filedriver.LoadPolicy(a.Cfg.Policy)
	if err != nil {
		return err
	}
	d, err := shim.OpenDriver("file", setup.DriverConfig(a.Cfg))
	if err != nil {
		return err
	}
	fd := d.(*filedriver.Driver)
	s, err := a.Shim(fd, hclog.NewNullLogger())
	if err != nil {
		return err
	}
	ref := c.Ref
	if ref != "" && !strings.HasPrefix(ref, "refs/") {
		ref = "refs/heads/" + ref
	}
	allow, why, err := explain(e.ctx, s, fd, pol, c.User, name, ref, want)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %s %s %s%s\n", verdict(allow), c.User, want, name, strings.TrimSuffix(" "+ref, " "))
	fmt.Fprintf(e.stdout, "  %s\n", why)
	if ok, err := fd.HasKeys(c.User); err == nil && !ok {
		fmt.Fprintf(e.stdout, "  note: %s has no key yet, so every request of theirs is refused until 'gitserver keys add --user %s'\n", c.User, c.User)
	}
	if !allow {
		return exitError(1)
	}
	return nil
}

// explain decides as the request pipeline would: the git request the
// level stands for (a fetch for read, a push for the others) through
// Shim.Decide, which knows whether the repository exists and whether a
// push may create it; then the level itself, or the ref update, with
// the file driver's Check.
func explain(ctx context.Context, s *shim.Shim, fd *filedriver.Driver, pol *policy.Policy, user, name, ref string, want policy.Access) (bool, string, error) {
	model := fd.ModelFor(user)
	verb := shim.UploadPack
	if want >= policy.Write {
		verb = shim.ReceivePack
	}
	out := s.Decide(ctx, model, verb, name)
	switch {
	case out.Allow:
	case out.Missing && verb == shim.UploadPack:
		return false, name + " does not exist: a fetch finds nothing (a push creates a repository, with create access)", nil
	case out.Missing:
		return false, name + " does not exist; creating it needs create (" + grants(pol, out.Rule) + ")", nil
	default:
		return false, grants(pol, out.Rule), nil
	}
	var dec shim.Decision
	var err error
	switch {
	case ref != "":
		op := policy.RefFastForward
		if want >= policy.Force {
			op = policy.RefRewind
		}
		dec, err = fd.AuthorizeRef(ctx, model, name, shim.RefUpdate{Ref: ref, Op: shim.RefOp(op)})
	case want > policy.Write:
		dec, err = fd.Check(model, name, "", want)
	default:
		dec = shim.Decision{Allow: true, Rule: out.Rule}
	}
	if err != nil {
		return false, "", err
	}
	why := grants(pol, dec.Rule)
	switch {
	case out.Create && !dec.Allow:
		why += "; " + name + " does not exist yet"
	case out.Create:
		why = name + " does not exist; the push creates it (" + grants(pol, out.Rule) + ")"
		if dec.Rule != out.Rule {
			why += "; " + grants(pol, dec.Rule)
		}
	}
	return dec.Allow, why, nil
}

// grants says what the rule at pos ("policy.toml:12") grants.
func grants(pol *policy.Policy, pos string) string {
	for _, r := range pol.Rules {
		if r.Pos() == pos {
			return pos + " grants " + r.Access.String()
		}
	}
	if pos == "" || pos == "no rule matched" {
		return "no rule matched (no match denies)"
	}
	return pos
}

func verdict(allow bool) string {
	if allow {
		return "allow"
	}
	return "deny"
}
