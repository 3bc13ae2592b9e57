package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitserver/gitserver/internal/gitolite"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
	"github.com/gitserver/gitserver/policy"
)

// ImportCmd groups the importers from other git servers.
type ImportCmd struct {
	Gitolite ImportGitoliteCmd `cmd:"" help:"Translate gitolite's keydir and gitolite.conf; print the result, or --apply it."`
}

// ImportGitoliteCmd imports a gitolite setup.
type ImportGitoliteCmd struct {
	Keydir string `required:"" type:"existingdir" help:"gitolite's keydir: every *.pub below it; alice.pub and alice@laptop.pub are alice's." placeholder:"DIR"`
	Conf   string `required:"" type:"existingfile" help:"gitolite.conf to translate into a policy." placeholder:"FILE"`
	RC     string `name:"rc" type:"existingfile" help:"gitolite's rc file (~/.gitolite.rc), for its ROLES (default: READERS and WRITERS, as gitolite's)." placeholder:"FILE"`
	Apply  bool   `help:"Write the policy and add the keys (default: print what would be done)."`
	Policy string `help:"Write the policy here (default: the configured policy file)." placeholder:"OUT" type:"path"`
	Force  bool   `help:"With --apply, overwrite an existing policy file."`
}

// maxKeyFile bounds one keydir file, in whole MiB (for the message).
const maxKeyFile = 1 << 20

// Run translates, reports every line it could not translate, and prints
// or applies the result. Bad key lines are reported and skipped; good
// keys are kept (import semantics).
func (c *ImportGitoliteCmd) Run(cli *CLI, e *env) error {
	res, err := c.translate(e)
	if err != nil {
		return err
	}
	recs, bad := c.readKeydir(e)
	if !c.Apply {
		fmt.Fprint(e.stdout, res.Policy)
		fmt.Fprintf(e.stdout, "\n# %d key(s) would be added:\n", len(recs))
		for _, r := range recs {
			fmt.Fprintf(e.stdout, "# key %s %s %s (%s)\n", r.User, r.Key.Fingerprint, r.Key.Type, r.Title)
		}
		fmt.Fprintln(e.stderr, "gitserver: dry run; nothing written")
		fmt.Fprintln(e.stderr, "hint: run again with --apply to write the policy and add the keys")
		return nil
	}
	return c.apply(cli, e, res.Policy, recs, bad)
}

// translate reads and translates the conf, printing its warnings.
func (c *ImportGitoliteCmd) translate(e *env) (*gitolite.Result, error) {
	var opts gitolite.Options
	if c.RC != "" {
		rc, err := os.Open(c.RC)
		if err != nil {
			return nil, err
		}
		opts.Roles, err = gitolite.RolesFromRC(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.RC, err)
		}
	}
	f, err := os.Open(c.Conf)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := gitolite.Translate(f, opts)
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
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxKeyFile {
		return nil, nil, fmt.Errorf("%s is larger than %d MiB", path, maxKeyFile>>20)
	}
	ks, errs := sshkey.ParseLines(bytes.NewReader(data))
	return ks, errs, nil
}

// apply writes the policy (never over an existing file without --force)
// and imports the keys, keeping the good ones.
func (c *ImportGitoliteCmd) apply(cli *CLI, e *env, text string, recs []keys.Record, bad int) error {
	a, err := load(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	out := c.Policy
	if out == "" {
		out = a.Cfg.Policy
	}
	if _, err := policy.Parse(out, strings.NewReader(text)); err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if c.Force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(out, flags, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists; use --force to overwrite it, or --policy OUT", out)
	}
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	now := time.Now().UTC()
	for i := range recs {
		recs[i].Added = now
	}
	added, errs := a.Store().Import(recs)
	for _, err := range errs {
		fmt.Fprintf(e.stderr, "gitserver: %v\n", err)
	}
	a.Log.Named("import").Info("gitolite imported", "conf", c.Conf, "keydir", c.Keydir, "policy", out, "keys_added", added, "bad", bad+len(errs))
	fmt.Fprintf(e.stdout, "wrote %s; added %d key(s); %d bad key line(s) or file(s), %d conflict(s)\n", out, added, bad, len(errs))
	if bad+len(errs) > 0 {
		return fmt.Errorf("%d key(s) not imported (the others were kept)", bad+len(errs))
	}
	return nil
}
