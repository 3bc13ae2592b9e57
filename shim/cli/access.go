package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/policy"
	"github.com/gitserver/gitserver/shim"
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

// Run prints the decision and the rule (file:line) that made it; the exit
// code is 0 for allow and 1 for deny, for scripts.
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
	ref := c.Ref
	if ref != "" && !strings.HasPrefix(ref, "refs/") {
		ref = "refs/heads/" + ref
	}
	creator := ""
	if pol.UsesCreator() {
		creator = c.User // a repository that does not exist yet
		if dir := filepath.Join(a.Cfg.Repos, shim.DirName(name)); exists(filepath.Join(dir, "HEAD")) {
			creator, _ = filedriver.ReadCreator(dir)
		}
	}
	d := pol.Check(policy.Request{User: c.User, Repo: name, Creator: creator, Ref: ref, Want: want})
	fmt.Fprintf(e.stdout, "%s: %s %s %s%s\n", verdict(d.Allow), c.User, want, name, strings.TrimSuffix(" "+ref, " "))
	if d.Rule == nil {
		fmt.Fprintln(e.stdout, "  no rule matched (no match denies)")
	} else {
		fmt.Fprintf(e.stdout, "  %s grants %s\n", d.Rule.Pos(), d.Access)
	}
	if !d.Allow {
		return exitError(1)
	}
	return nil
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func verdict(allow bool) string {
	if allow {
		return "allow"
	}
	return "deny"
}
