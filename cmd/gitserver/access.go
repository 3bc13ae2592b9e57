package main

import (
	"fmt"

	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/policy"
	"github.com/gitserver/gitserver/shim"
)

// AccessCmd explains a policy decision, as the file driver would make it.
type AccessCmd struct {
	User  string `arg:"" help:"User name." placeholder:"USER"`
	Repo  string `arg:"" help:"Repository, as a client would name it (owner/repo, /owner/repo.git)." placeholder:"REPO"`
	Level string `arg:"" optional:"" default:"read" enum:"read,write" help:"Access wanted: read (clone, fetch, archive) or write (push). Default read."`
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
	defer a.close()
	pol, err := filedriver.LoadPolicy(a.cfg.Policy)
	if err != nil {
		return err
	}
	d := pol.Decide(c.User, name, want)
	verdict := "deny"
	if d.Allow {
		verdict = "allow"
	}
	fmt.Fprintf(e.stdout, "%s: %s %s %s\n", verdict, c.User, want, name)
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
