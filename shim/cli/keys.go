package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
)

// KeysCmd groups the key store commands.
type KeysCmd struct {
	Add    KeysAddCmd    `cmd:"" help:"Add one or more public keys for a user (all or nothing)."`
	List   KeysListCmd   `cmd:"" help:"List keys, optionally of one user."`
	Remove KeysRemoveCmd `cmd:"" help:"Remove keys by fingerprint, or all keys of a user."`
	Import KeysImportCmd `cmd:"" help:"Bulk-load keys from lines 'USER KEYTYPE BASE64 [TITLE]'; bad lines are reported, good ones kept."`
}

// KeysAddCmd adds keys for one user.
type KeysAddCmd struct {
	User  string `required:"" help:"User the keys belong to." placeholder:"NAME"`
	Title string `help:"Title for the keys (default: each key's comment)."`
	File  string `arg:"" optional:"" default:"-" help:"File of key lines, as in authorized_keys without options; - for stdin." placeholder:"FILE"`
}

// Run parses every line first: one bad line adds nothing.
func (c *KeysAddCmd) Run(cli *CLI, e *env) error {
	if err := keys.ValidUsername(c.User); err != nil {
		return err
	}
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
	for _, le := range errs {
		fmt.Fprintf(e.stderr, "gitserver: %s:%v\n", name, le)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d bad line(s) in %s; no key was added", len(errs), name)
	}
	if len(parsed) == 0 {
		return fmt.Errorf("no key in %s; give lines like 'ssh-ed25519 AAAA... comment'", name)
	}
	now := time.Now().UTC()
	recs := make([]keys.Record, len(parsed))
	for i, k := range parsed {
		title := c.Title
		if title == "" {
			title = k.Comment
		}
		recs[i] = keys.Record{User: c.User, Title: title, Key: k, Added: now}
	}
	added, err := a.Store().Add(recs)
	if err != nil {
		return fmt.Errorf("%w; no key was added", err)
	}
	log := a.Log.Named("keys")
	for _, r := range added {
		log.Info("key added", "user", r.User, "key", r.Key.Fingerprint, "type", r.Key.Type, "title", r.Title)
		fmt.Fprintf(e.stdout, "%s %s %s\n", r.Key.Fingerprint, r.Key.Type, r.User)
	}
	if skipped := len(recs) - len(added); skipped > 0 {
		fmt.Fprintf(e.stderr, "gitserver: %d key(s) already belonged to %s\n", skipped, c.User)
	}
	return nil
}

// openInput opens FILE, or stdin for "-".
func openInput(e *env, file string) (io.Reader, string, func(), error) {
	if file == "-" || file == "" {
		return e.stdin, "stdin", func() {}, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, "", nil, err
	}
	return f, file, func() { f.Close() }, nil
}

// KeysListCmd lists keys.
type KeysListCmd struct {
	User string `help:"Only this user's keys." placeholder:"NAME"`
	JSON bool   `help:"Print JSON, one array."`
	// AuthorizedKeys is for sshd-config --force-command, where sshd reads
	// the keys from a file itself.
	AuthorizedKeys bool `name:"authorized-keys" help:"Print authorized_keys lines ('TYPE BASE64 USER'), for the file sshd reads with 'sshd-config --force-command'."`
}

// Validate refuses two output formats at once.
func (c *KeysListCmd) Validate() error {
	if c.JSON && c.AuthorizedKeys {
		return errors.New("--json and --authorized-keys are two formats; choose one")
	}
	return nil
}

type keyJSON struct {
	User        string    `json:"user"`
	Fingerprint string    `json:"fingerprint"`
	Type        string    `json:"type"`
	Title       string    `json:"title"`
	Added       time.Time `json:"added"`
	Key         string    `json:"key"`
}

// Run prints the keys, ordered by user.
func (c *KeysListCmd) Run(cli *CLI, e *env) error {
	a, err := load(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	var list []keyJSON
	err = a.Store().List(c.User, func(r keys.Record) error {
		list = append(list, keyJSON{r.User, r.Key.Fingerprint, r.Key.Type, r.Title, r.Added, r.Key.AuthorizedKey()})
		return nil
	})
	if err != nil && !errors.Is(err, keys.ErrNoStore) {
		return err
	}
	if c.AuthorizedKeys {
		for _, k := range list {
			fmt.Fprintf(e.stdout, "%s %s\n", k.Key, k.User)
		}
		return nil
	}
	if c.JSON {
		if list == nil {
			list = []keyJSON{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tFINGERPRINT\tTYPE\tTITLE\tADDED")
	for _, k := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.User, k.Fingerprint, k.Type, k.Title, k.Added.Format(time.DateOnly))
	}
	return tw.Flush()
}

// KeysRemoveCmd removes keys.
type KeysRemoveCmd struct {
	User         string   `help:"Remove every key of this user." placeholder:"NAME"`
	Fingerprints []string `arg:"" optional:"" help:"Fingerprints (SHA256:...) to remove." placeholder:"FINGERPRINT"`
}

// Validate wants exactly one of --user and fingerprints.
func (c *KeysRemoveCmd) Validate() error {
	if (c.User == "") == (len(c.Fingerprints) == 0) {
		return errors.New("give fingerprints or --user NAME (not both)")
	}
	return nil
}

// Run removes the keys; the next login with them is refused.
func (c *KeysRemoveCmd) Run(cli *CLI, e *env) error {
	a, err := load(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	var n int
	if c.User != "" {
		n, err = a.Store().RemoveUser(c.User)
	} else {
		n, err = a.Store().Remove(c.Fingerprints...)
	}
	if err != nil {
		return err
	}
	a.Log.Named("keys").Info("keys removed", "user", c.User, "keys", c.Fingerprints, "removed", n)
	fmt.Fprintf(e.stdout, "removed %d key(s)\n", n)
	if n == 0 {
		return errors.New("no such key; see 'gitserver keys list'")
	}
	return nil
}
