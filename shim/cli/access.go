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
	Level string `arg:"" optional:"" default:"read" enum:"read,write,force,create,delete,admin" help:"Access wanted: read (clone, fetch, archive), write (push), force (rewind), create (create the missing repository by pushing), delete (delete a ref) or admin. With --ref: write is a fast-forward of REF, force a rewind (or a move of a tag), create the creation of REF, delete its deletion, read whether REF's rules grant read (as gitolite's access R REF; fetches ignore ref rules). Default read."`
	Ref   string `help:"Decide one pushed update of REF (see LEVEL); a bare name is a branch." placeholder:"REF"`
}

// Validate refuses --ref with admin, which no ref rule decides.
func (c *AccessCmd) Validate() error {
	if c.Ref != "" && c.Level == "admin" {
		return fmt.Errorf("--ref needs read, write, force, create or delete")
	}
	return nil
}

// request is the question LEVEL and --ref (ref, in full) ask, and what
// it is called in the answer.
func (c *AccessCmd) request(ref string) (policy.Request, string, error) {
	if c.Level == "delete" {
		return policy.Request{Ref: ref, Op: policy.RefDelete}, "delete", nil
	}
	want, err := policy.ParseAccess(c.Level)
	if err != nil {
		return policy.Request{}, "", err
	}
	if ref == "" || want == policy.Read {
		return policy.Request{Want: want, Ref: ref}, want.String(), nil
	}
	op := map[policy.Access]policy.RefOp{policy.Write: policy.RefFastForward, policy.Force: policy.RefRewind, policy.Create: policy.RefCreate}[want]
	return policy.Request{Ref: ref, Op: op}, op.String(), nil
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
	ref := c.Ref
	if ref != "" && !strings.HasPrefix(ref, "refs/") {
		ref = "refs/heads/" + ref
	}
	q, what, err := c.request(ref)
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
	allow, why, err := explain(e.ctx, s, fd, pol, c.User, name, q)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %s %s %s%s\n", verdict(allow), c.User, what, name, strings.TrimSuffix(" "+ref, " "))
	fmt.Fprintf(e.stdout, "  %s\n", why)
	if ok, err := fd.HasKeys(c.User); err == nil && !ok {
		fmt.Fprintf(e.stdout, "  note: %s has no key yet, so every request of theirs is refused until 'gitserver keys add --user %s'\n", c.User, c.User)
	}
	if !allow {
		return exitError(1)
	}
	return nil
}

// explain decides as the request pipeline would: the git request q
// stands for (a fetch for a read, a push for the others) through
// Shim.Decide, which knows whether the repository exists and whether a
// push may create it; then q itself with the file driver's Check. A
// read with a ref is no request: it asks only whether the ref's rules
// grant read, as gitolite's "access REPO USER R REF" does.
func explain(ctx context.Context, s *shim.Shim, fd *filedriver.Driver, pol *policy.Policy, user, name string, q policy.Request) (bool, string, error) {
	model := fd.ModelFor(user)
	verb := shim.UploadPack
	if q.Op != 0 || q.Want >= policy.Write {
		verb = shim.ReceivePack
	}
	out := s.Decide(ctx, model, verb, name)
	refRead := q.Op == 0 && q.Ref != "" // a question about REF's rules alone
	switch {
	case out.Allow, refRead && !out.Missing:
	case out.Missing && verb == shim.UploadPack:
		return false, name + " does not exist: a fetch finds nothing (a push creates a repository, with create access)", nil
	case out.Missing:
		return false, name + " does not exist; creating it needs create (" + grants(pol, out.Rule) + ")", nil
	default:
		return false, grants(pol, out.Rule), nil
	}
	if q.Want == policy.Create && q.Ref == "" && !out.Missing {
		return false, name + " exists: there is nothing to create (create applies to a missing repository)", nil
	}
	dec := shim.Decision{Allow: true, Rule: out.Rule}
	if q.Op != 0 || q.Ref != "" || q.Want > policy.Write {
		var err error
		if dec, err = fd.Check(model, name, q); err != nil {
			return false, "", err
		}
	}
	why := grants(pol, dec.Rule)
	if refRead {
		why += "; a fetch is decided for the whole repository (read " + name + " without --ref)"
	}
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
			return pos + " grants " + r.Grants()
		}
	}
	if pos == "" || pos == "no rule matched" {
		if pol.FirstGrant {
			return "no rule grants it (no grant denies)"
		}
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
