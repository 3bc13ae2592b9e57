package cli

import (
	"bytes"
	"fmt"
	"io"

	"github.com/gitserver/gitserver/internal/atomicfile"
	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/policy"
)

// PolicyCmd groups the policy commands.
type PolicyCmd struct {
	Push PolicyPushCmd `cmd:"" help:"Check a policy file and make it the policy: in PostgreSQL with [store] (every host follows), else the config's policy file."`
}

// PolicyPushCmd replaces the policy, checked first.
type PolicyPushCmd struct {
	File   string `arg:"" help:"The new policy (TOML), or - for stdin." placeholder:"FILE"`
	DryRun bool   `name:"dry-run" help:"Only check the file; change nothing."`
}

// Help is shown by --help under the command's summary.
func (c *PolicyPushCmd) Help() string {
	return `The file is parsed and checked as the file driver will read it; a policy with
an error is never stored, so a typo cannot lock everyone out.

Without [store], it replaces the config's policy file whole (a reader sees the
old policy or the new one, never half). With [store], the policy is versioned
in PostgreSQL: this host has the new version when the command returns, and
every host running 'gitserver replicate' within about a second. There, edit
the policy with 'gitserver policy push', not in the file: the file is the
replica and is replaced at the next policy change or reconcile.`
}

// Run checks the file and stores it.
func (c *PolicyPushCmd) Run(cli *CLI, e *env) error {
	a, err := load(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	if a.Cfg.Driver != "file" {
		return fmt.Errorf("the %s driver keeps its own policy; policy push is for driver = \"file\"", a.Cfg.Driver)
	}
	r, name, closeIn, err := openInput(e, c.File)
	if err != nil {
		return err
	}
	defer closeIn()
	doc, err := io.ReadAll(io.LimitReader(r, policy.MaxSize+1))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	pol, err := policy.Parse(name, bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("%w; nothing changed", err)
	}
	digest := policy.Digest(doc)
	if c.DryRun {
		fmt.Fprintf(e.stdout, "%s: a good policy (%d rules, sha256 %s); nothing changed\n", name, len(pol.Rules), digest[:12])
		return nil
	}
	log := a.Log.Named("policy")
	if !a.Cfg.Store.Configured() {
		if err := atomicfile.Write(a.Cfg.Policy, doc, 0o644, a.Owner.UID, a.Owner.GID); err != nil {
			return err
		}
		log.Info("policy pushed", "file", a.Cfg.Policy, "sha256", digest, "from", name)
		fmt.Fprintf(e.stdout, "policy %s written to %s\n", digest[:12], a.Cfg.Policy)
		return nil
	}
	resp, err := setup.SharedWriter(a.Cfg).PushPolicy(doc)
	if err != nil {
		return fmt.Errorf("%w; nothing changed", err)
	}
	log.Info("policy pushed", "version", resp.Version, "sha256", digest, "from", name)
	fmt.Fprintf(e.stdout, "policy version %d (%s) stored in PostgreSQL; this host has it, the others within about a second\n", resp.Version, digest[:12])
	if resp.Warning != "" {
		fmt.Fprintf(e.stderr, "gitserver: %s\n", resp.Warning)
	}
	return nil
}
