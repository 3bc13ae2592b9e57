package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitserver/gitserver/internal/bounded"
	"github.com/gitserver/gitserver/internal/gitolite"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
	"github.com/gitserver/gitserver/policy"
)

// ImportCmd groups the importers from other git servers.
type ImportCmd struct {
	Gitolite ImportGitoliteCmd `cmd:"" help:"Translate gitolite's keydir, gitolite.conf and repositories; print the result, or --apply it."`
}

// ImportGitoliteCmd imports a gitolite setup: its keys, its rules
// (--conf) and its repositories (--repos, see importrepos.go).
type ImportGitoliteCmd struct {
	Keydir string `required:"" type:"existingdir" help:"gitolite's keydir: every *.pub below it; alice.pub and alice@laptop.pub are alice's." placeholder:"DIR"`
	Conf   string `type:"existingfile" help:"gitolite.conf to translate into a policy." placeholder:"FILE"`
	Repos  string `type:"existingdir" help:"gitolite's repositories directory (~/repositories): move each NAME.git under the repos root, its gl-creator and gl-perms recorded, gitolite's hooks/ moved to hooks.gitolite/." placeholder:"DIR"`
	Adopt  bool   `help:"With --repos, leave the repositories where they are: the configured repos root must be DIR."`
	RC     string `name:"rc" type:"existingfile" help:"gitolite's rc file (~/.gitolite.rc), for its ROLES (default: READERS and WRITERS, as gitolite's)." placeholder:"FILE"`
	Apply  bool   `help:"Write the policy, add the keys, import the repositories (default: print what would be done)."`
	Policy string `help:"Write the policy here (default: the configured policy file)." placeholder:"OUT" type:"path"`
	Force  bool   `help:"With --apply, overwrite an existing policy file."`
}

// Validate checks the flags that go together.
func (c *ImportGitoliteCmd) Validate() error {
	switch {
	case c.Conf == "" && c.Repos == "":
		return errors.New("give --conf, --repos or both")
	case c.Adopt && c.Repos == "":
		return errors.New("--adopt needs --repos")
	case c.Conf == "" && (c.Policy != "" || c.Force):
		return errors.New("--policy and --force need --conf")
	}
	return nil
}

// maxKeyFile bounds one keydir file, in whole MiB (for the message).
const maxKeyFile = 1 << 20

// Run translates, reports every line it could not translate, and prints
// or applies the result. Bad key lines are reported and skipped; good
// keys are kept (import semantics). The same holds for repositories:
// one with a problem is reported and left as it is.
func (c *ImportGitoliteCmd) Run(cli *CLI, e *env) error {
	roles, err := c.roles()
	if err != nil {
		return err
	}
	var res *gitolite.Result
	if c.Conf != "" {
		if res, err = c.translate(e, roles); err != nil {
			return err
		}
	}
	recs, bad := c.readKeydir(e)
	var a *app
	var plan *reposPlan
	if c.Repos != "" || c.Apply {
		if a, err = load(cli); err != nil {
			return err
		}
		defer a.Close()
	}
	if c.Repos != "" {
		if plan, err = c.planRepos(a, roles, keyUsers(recs)); err != nil {
			return c.fail(e, err)
		}
	}
	if !c.Apply {
		c.dryRun(e, a, res, recs, plan)
		return nil
	}
	return c.apply(e, a, res, recs, bad, plan)
}

// fail prints a hintError with its hint; other errors are returned.
func (c *ImportGitoliteCmd) fail(e *env, err error) error {
	var he *hintError
	if !errors.As(err, &he) {
		return err
	}
	fmt.Fprintf(e.stderr, "gitserver: %s\nhint: %s\n", he.msg, he.hint)
	return exitError(1)
}

// dryRun prints what --apply would do: the policy, then the keys and
// the repositories as comment lines, so that stdout is a policy file.
func (c *ImportGitoliteCmd) dryRun(e *env, a *app, res *gitolite.Result, recs []keys.Record, plan *reposPlan) {
	if res != nil {
		fmt.Fprint(e.stdout, res.Policy)
	}
	fmt.Fprintf(e.stdout, "\n# %d key(s) would be added:\n", len(recs))
	for _, r := range recs {
		fmt.Fprintf(e.stdout, "# key %s %s %s (%s)\n", r.User, r.Key.Fingerprint, r.Key.Type, r.Title)
	}
	if plan != nil {
		owner := ""
		if a.Owner.UID >= 0 {
			owner = a.Cfg.SSHUser
		}
		plan.print(e, owner)
	}
	fmt.Fprintln(e.stderr, "gitserver: dry run; nothing written")
	fmt.Fprintln(e.stderr, "hint: run again with --apply to "+c.doing())
}

// doing is what --apply does, for the dry run's hint.
func (c *ImportGitoliteCmd) doing() string {
	s := "add the keys"
	if c.Conf != "" {
		s = "write the policy and " + s
	}
	if c.Repos != "" {
		s += " and import the repositories"
	}
	return s
}

// keyUsers is the set of users with a key in recs.
func keyUsers(recs []keys.Record) map[string]bool {
	m := make(map[string]bool, len(recs))
	for _, r := range recs {
		m[r.User] = true
	}
	return m
}

// roles are the rc file's ROLES, or gitolite's default ones.
func (c *ImportGitoliteCmd) roles() ([]string, error) {
	if c.RC == "" {
		return gitolite.DefaultRoles, nil
	}
	rc, err := os.Open(c.RC)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	roles, err := gitolite.RolesFromRC(rc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.RC, err)
	}
	return roles, nil
}

// translate reads and translates the conf, printing its warnings.
func (c *ImportGitoliteCmd) translate(e *env, roles []string) (*gitolite.Result, error) {
	f, err := os.Open(c.Conf)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := gitolite.Translate(f, gitolite.Options{Roles: roles})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Conf, err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(e.stderr, "gitserver: %s:%d: %s\n", c.Conf, w.Line, w.Msg)
	}
	return res, nil
}

// readKeydir reads every *.pub below the keydir and returns the good
// keys; bad files and lines are reported and counted.
func (c *ImportGitoliteCmd) readKeydir(e *env) (recs []keys.Record, bad int) {
	err := filepath.WalkDir(c.Keydir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		user, ok := gitolite.UserFromKeyFile(p)
		if d.IsDir() || !ok {
			return nil
		}
		if err := keys.ValidUsername(user); err != nil {
			fmt.Fprintf(e.stderr, "gitserver: %s: %v; skipped\n", p, err)
			bad++
			return nil
		}
		rel, _ := filepath.Rel(c.Keydir, p)
		ks, errs, err := readKeyFile(p)
		if err != nil {
			fmt.Fprintf(e.stderr, "gitserver: %v; skipped\n", err)
			bad++
			return nil
		}
		for _, le := range errs {
			fmt.Fprintf(e.stderr, "gitserver: %s:%v\n", p, le)
			bad++
		}
		for _, k := range ks {
			recs = append(recs, keys.Record{User: user, Title: rel, Key: k})
		}
		return nil
	})
	if err != nil {
		fmt.Fprintf(e.stderr, "gitserver: %s: %v\n", c.Keydir, err)
		bad++
	}
	return recs, bad
}

// readKeyFile parses the key lines of one file. A file larger than
// maxKeyFile is refused whole, never cut.
func readKeyFile(path string) ([]keys.Key, []*sshkey.LineError, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := bounded.ReadAll(f, maxKeyFile, path)
	if err != nil {
		return nil, nil, err
	}
	ks, errs := sshkey.ParseLines(bytes.NewReader(data))
	return ks, errs, nil
}

// apply writes the policy (never over an existing file without --force),
// imports the keys, keeping the good ones, then the repositories. The
// error counts what was not imported.
func (c *ImportGitoliteCmd) apply(e *env, a *app, res *gitolite.Result, recs []keys.Record, bad int, plan *reposPlan) error {
	wrote := ""
	if res != nil {
		out, err := c.writePolicy(a, res.Policy)
		if err != nil {
			return err
		}
		wrote = "wrote " + out + "; "
	}
	now := time.Now().UTC()
	for i := range recs {
		recs[i].Added = now
	}
	added, errs, err := a.Store().Import(recs)
	if err != nil {
		return fmt.Errorf("%skey store %s: %w; no key added", wrote, a.Store().Path(), err)
	}
	for _, err := range errs {
		fmt.Fprintf(e.stderr, "gitserver: %v\n", err)
	}
	a.Log.Named("import").Info("gitolite imported", "conf", c.Conf, "keydir", c.Keydir, "policy", strings.TrimSuffix(strings.TrimPrefix(wrote, "wrote "), "; "), "keys_added", added, "bad", bad+len(errs))
	fmt.Fprintf(e.stdout, "%sadded %d key(s); %d bad key line(s) or file(s), %d conflict(s)\n", wrote, added, bad, len(errs))
	var failed []string
	if bad+len(errs) > 0 {
		failed = append(failed, fmt.Sprintf("%d key(s) not imported (the others were kept)", bad+len(errs)))
	}
	if plan != nil {
		n, err := a.importRepos(e, plan)
		if err != nil {
			return err
		}
		if n > 0 {
			failed = append(failed, fmt.Sprintf("%d repositories or parts of them not imported (the others were)", n))
		}
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

// writePolicy checks and writes the translated policy and returns where.
func (c *ImportGitoliteCmd) writePolicy(a *app, text string) (string, error) {
	out := c.Policy
	if out == "" {
		out = a.Cfg.Policy
	}
	if _, err := policy.Parse(out, strings.NewReader(text)); err != nil {
		return "", err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if c.Force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(out, flags, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("%s exists; use --force to overwrite it, or --policy OUT", out)
	}
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return "", err
	}
	return out, f.Close()
}
