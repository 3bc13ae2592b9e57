package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
	"github.com/gitserver/gitserver/policy"
	"github.com/gitserver/gitserver/shim"
)

// DeployKeysCmd groups the deploy key commands.
type DeployKeysCmd struct {
	Add    DeployKeysAddCmd    `cmd:"" help:"Add a deploy key: a key that is no user's, reaching only the repositories named, read or write."`
	List   DeployKeysListCmd   `cmd:"" help:"List the deploy keys and what each reaches."`
	Remove DeployKeysRemoveCmd `cmd:"" help:"Remove a deploy key by its fingerprint."`
}

// DeployKeysAddCmd adds one deploy key.
type DeployKeysAddCmd struct {
	Repos  []string `name:"repo" required:"" help:"A repository the key reaches (repeat for more); it reaches no other, not even a public one." placeholder:"NAME"`
	Access string   `required:"" enum:"read,write" help:"read (clone, fetch, archive, LFS download) or write (also push and LFS upload)."`
	Refs   []string `name:"refs" help:"With write: the refs it may create and fast-forward, as policy patterns (refs/heads/deploy/*); default every ref. Never rewinds or deletes." placeholder:"PATTERN"`
	Title  string   `help:"What the key is for, shown in logs and lists (default: the key's comment)."`
	File   string   `arg:"" optional:"" default:"-" help:"A file holding one key line; - for stdin." placeholder:"FILE"`
}

// Validate checks the grant's names and patterns before any key is read.
func (c *DeployKeysAddCmd) Validate() error {
	for i, r := range c.Repos {
		name, err := shim.CleanName(r)
		if err != nil {
			return fmt.Errorf("--repo %s: %w", keys.Quote(r), err)
		}
		c.Repos[i] = name
	}
	if len(c.Refs) > 0 && c.Access != "write" {
		return errors.New("--refs limits what a write key may push: give it with --access write")
	}
	for _, p := range c.Refs {
		if !strings.HasPrefix(p, "refs/") {
			return fmt.Errorf("--refs %s: a pattern of full ref names, such as refs/heads/deploy/*", keys.Quote(p))
		}
		if _, err := policy.CompileGlob(p); err != nil {
			return fmt.Errorf("--refs %s: %w", keys.Quote(p), err)
		}
	}
	return nil
}

// Run adds the key, refusing one that is already a user's or a deploy key.
func (c *DeployKeysAddCmd) Run(cli *CLI, e *env) error {
	a, err := load(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	r, name, closeIn, err := openInput(e, c.File)
	if err != nil {
		return err
	}
	defer closeIn()
	parsed, errs := sshkey.ParseLines(r)
	switch {
	case len(errs) > 0:
		return fmt.Errorf("%s:%v", name, errs[0])
	case len(parsed) != 1:
		return fmt.Errorf("%s holds %d keys; a deploy key is one key line", name, len(parsed))
	}
	k := parsed[0]
	title := c.Title
	if title == "" {
		title = k.Comment
	}
	d := &keys.Deploy{Repos: c.Repos, Write: c.Access == "write", Refs: c.Refs}
	rec := keys.Record{User: keys.DeployUser, Title: title, Key: k, Added: time.Now().UTC(), Deploy: d}
	added, err := a.Store().Add([]keys.Record{rec})
	if err != nil {
		return fmt.Errorf("%w; no key was added", err)
	}
	if len(added) == 0 {
		return fmt.Errorf("%s is a deploy key already; remove it first to change what it reaches", k.Fingerprint)
	}
	a.Log.Named("keys").Info("deploy key added", "key", k.Fingerprint, "title", title, "repos", strings.Join(c.Repos, ","), "access", c.Access, "refs", strings.Join(c.Refs, ","))
	fmt.Fprintf(e.stdout, "%s deploy key %q: %s %s\n", k.Fingerprint, title, c.Access, grantText(d))
	return nil
}

func grantText(d *keys.Deploy) string {
	s := strings.Join(d.Repos, ",")
	if len(d.Refs) > 0 {
		s += " refs " + strings.Join(d.Refs, ",")
	}
	return s
}

// DeployKeysListCmd lists the deploy keys.
type DeployKeysListCmd struct {
	JSON bool `help:"Print JSON, one array."`
}

// Run lists every deploy key with its grant.
func (c *DeployKeysListCmd) Run(cli *CLI, e *env) error {
	a, err := loadConfig(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	type entry struct {
		Fingerprint string    `json:"fingerprint"`
		Title       string    `json:"title"`
		Access      string    `json:"access"`
		Repos       []string  `json:"repos"`
		Refs        []string  `json:"refs,omitempty"`
		Added       time.Time `json:"added"`
	}
	list := []entry{}
	err = a.Store().List(keys.DeployUser, func(r keys.Record) error {
		if r.Deploy == nil {
			return nil
		}
		access := "read"
		if r.Deploy.Write {
			access = "write"
		}
		list = append(list, entry{r.Key.Fingerprint, r.Title, access, r.Deploy.Repos, r.Deploy.Refs, r.Added})
		return nil
	})
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	for _, d := range list {
		line := fmt.Sprintf("%s\t%s\t%s", d.Fingerprint, d.Access, strings.Join(d.Repos, ","))
		if len(d.Refs) > 0 {
			line += "\trefs " + strings.Join(d.Refs, ",")
		}
		fmt.Fprintf(e.stdout, "%s\t%s\n", line, d.Title)
	}
	return nil
}

// DeployKeysRemoveCmd removes a deploy key.
type DeployKeysRemoveCmd struct {
	Fingerprint string `arg:"" help:"The key's SHA256:... fingerprint (deploy-keys list)." placeholder:"FINGERPRINT"`
}

// Run removes the key if it is a deploy key; a person's key is left.
func (c *DeployKeysRemoveCmd) Run(cli *CLI, e *env) error {
	a, err := load(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	st := a.Store()
	r, err := st.Lookup(c.Fingerprint)
	if errors.Is(err, keys.ErrNotFound) {
		return fmt.Errorf("no key %s; see 'gitserver deploy-keys list'", c.Fingerprint)
	}
	if err != nil {
		return err
	}
	if r.Deploy == nil {
		return fmt.Errorf("%s is %s's key, not a deploy key; 'gitserver keys remove' removes it", c.Fingerprint, r.User)
	}
	if _, err := st.Remove(c.Fingerprint); err != nil {
		return err
	}
	a.Log.Named("keys").Info("deploy key removed", "key", c.Fingerprint, "title", r.Title)
	fmt.Fprintf(e.stdout, "removed deploy key %s %q\n", c.Fingerprint, r.Title)
	return nil
}
