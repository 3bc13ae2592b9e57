// Package filedriver is gitserver's built-in driver, registered as "file":
// keys from the key store, access from the policy file, repositories below
// the repos root as NAME.git.
package filedriver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/policy"
	"github.com/gitserver/gitserver/shim"
)

func init() {
	shim.Register("file", func(cfg shim.DriverConfig) (shim.Driver, error) {
		return New(cfg), nil
	})
}

// Driver is the file driver. It keeps nothing between requests that
// could let one outlive a change: each decision asks the key store and
// the policy file as they are now.
//
// The policy is read at the first decision, so authorized-keys, which
// never authorizes, does not pay for it, and read again whenever a stat
// of the file finds it changed (size, mtime, ctime, inode or device). A
// policy that no longer parses fails closed: every decision returns its
// error, with the file and line, for the operator's log, until the file
// parses again. The driver never goes on deciding with the version
// before the edit, which may grant what the edit revoked.
//
// A Driver is safe for concurrent use.
type Driver struct {
	store  *keys.Store
	repos  string
	policy *policyFile
}

var _ shim.Driver = (*Driver)(nil)

// New returns a file driver for cfg.
func New(cfg shim.DriverConfig) *Driver {
	return &Driver{
		store:  keys.Open(filepath.Join(cfg.DataDir, "keys.db"), keys.Options{MaxLag: cfg.MaxLag, Source: cfg.KeySource}),
		repos:  cfg.Repos,
		policy: &policyFile{path: cfg.Policy, outline: filepath.Join(cfg.DataDir, OutlineName(cfg.Policy))},
	}
}

// user is the file driver's user model.
type user struct{ name string }

// Authenticate looks the key up by fingerprint.
func (d *Driver) Authenticate(_ context.Context, c shim.Credentials) (string, error) {
	rec, err := d.store.Lookup(c.Fingerprint)
	if errors.Is(err, keys.ErrNotFound) {
		return "", shim.ErrUnknownKey
	}
	if err != nil {
		return "", err
	}
	if !bytes.Equal(rec.Key.Blob, c.Key) {
		return "", fmt.Errorf("filedriver: stored key for %s differs from the offered one", c.Fingerprint)
	}
	return rec.User, nil
}

// CheckKey is the key store's answer to "is fp still name's key?", one
// lookup: a key that is name's proves that name exists, so it returns
// name's model as GetUserModel would, and the request pipeline asks no
// more. A key removed, or now another user's, is shim.ErrUnknownKey.
func (d *Driver) CheckKey(_ context.Context, name, fp string) (shim.UserModel, error) {
	rec, err := d.store.Lookup(fp)
	if errors.Is(err, keys.ErrNotFound) {
		return nil, fmt.Errorf("filedriver: key %s is no longer in the key store: %w", fp, shim.ErrUnknownKey)
	}
	if err != nil {
		return nil, err
	}
	if rec.User != name {
		return nil, fmt.Errorf("filedriver: key %s now belongs to another user: %w", fp, shim.ErrUnknownKey)
	}
	if rec.Deploy != nil {
		return deployKey{fp: fp, title: rec.Title, grant: *rec.Deploy}, nil
	}
	return user{name}, nil
}

// ModelFor is the model of user name without asking the key store: for
// 'gitserver access', which explains the policy for users who may have
// no key yet. The request pipeline never uses it.
func (d *Driver) ModelFor(name string) shim.UserModel { return user{name} }

// HasKeys reports whether name has a key in the store.
func (d *Driver) HasKeys(name string) (bool, error) { return d.store.HasUser(name) }

// GetUserModel knows a user while they have at least one key. The
// owner of the deploy keys is no user: a deploy key's model comes from
// its key (CheckKey) only.
func (d *Driver) GetUserModel(_ context.Context, name string) (shim.UserModel, error) {
	if name == keys.DeployUser {
		return nil, fmt.Errorf("filedriver: %s is the deploy keys' owner, not a user: %w", name, shim.ErrUnknownUser)
	}
	ok, err := d.store.HasUser(name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, shim.ErrUnknownUser
	}
	return user{name}, nil
}

// Authorize asks the policy: reads need read access, pushes write.
func (d *Driver) Authorize(_ context.Context, m shim.UserModel, command, path string) (shim.Decision, error) {
	want, err := Wanted(command)
	if err != nil {
		return shim.Decision{}, err
	}
	if dk, ok := m.(deployKey); ok {
		return dk.reaches(path, want)
	}
	return d.Check(m, path, policy.Request{Want: want})
}

// AuthorizeRef asks the policy about one pushed ref update: creating a
// ref or fast-forwarding it needs write, rewinding or deleting it force
// (and the hook classifies any update of an existing tag as a rewind),
// or the rights a rule's allow list names.
func (d *Driver) AuthorizeRef(_ context.Context, m shim.UserModel, path string, u shim.RefUpdate) (shim.Decision, error) {
	if dk, ok := m.(deployKey); ok {
		return dk.refAllowed(path, u)
	}
	return d.Check(m, path, policy.Request{Ref: u.Ref, Op: policy.RefOp(u.Op)})
}

// AuthorizeCreate asks whether the user may create the repository at
// path by pushing to it: that needs create.
func (d *Driver) AuthorizeCreate(_ context.Context, m shim.UserModel, path string) (shim.Decision, error) {
	if dk, ok := m.(deployKey); ok {
		return shim.Decision{Rule: dk.rule() + " (deploy keys create nothing)"}, nil
	}
	return d.Check(m, path, policy.Request{Want: policy.Create})
}

// IsAdmin reports whether the policy makes the user an admin.
func (d *Driver) IsAdmin(_ context.Context, m shim.UserModel) (bool, error) {
	if _, ok := m.(deployKey); ok {
		return false, nil
	}
	u, ok := m.(user)
	if !ok {
		return false, fmt.Errorf("filedriver: foreign user model %T", m)
	}
	pol, err := d.policy.get()
	if err != nil {
		return false, err
	}
	return pol.IsAdmin(u.name), nil
}

var (
	_ shim.AdminChecker     = (*Driver)(nil)
	_ shim.KeyChecker       = (*Driver)(nil)
	_ shim.RefAuthorizer    = (*Driver)(nil)
	_ shim.CreateAuthorizer = (*Driver)(nil)
)

// Check asks the policy q (its Ref, Op or Want) for user model m and the
// repository at path, with the repository's creator and role members as
// its config records them. Authorize, AuthorizeRef and AuthorizeCreate
// are its cases; 'gitserver access' asks it about the others. A
// repository that does not exist yet has the user as its creator, who
// would create it, and no roles.
func (d *Driver) Check(m shim.UserModel, path string, q policy.Request) (shim.Decision, error) {
	u, ok := m.(user)
	if !ok {
		return shim.Decision{}, fmt.Errorf("filedriver: foreign user model %T", m)
	}
	name, err := shim.CleanName(path)
	if err != nil {
		return shim.Decision{}, err
	}
	pol, err := d.policy.getFor(name)
	if err != nil {
		return shim.Decision{}, err
	}
	q.User, q.Repo, q.Creator, q.Roles = u.name, name, "", nil
	if pol.UsesCreator() || pol.UsesRoles() {
		q.Creator, q.Roles = d.meta(name, u.name)
	}
	dec := pol.Check(q)
	rule := "no rule matched"
	if dec.Rule != nil {
		rule = dec.Rule.Pos()
	}
	need := ""
	if !dec.Allow && dec.Explicit != 0 {
		need = dec.Explicit.String()
	}
	return shim.Decision{Allow: dec.Allow, Rule: rule, Need: need}, nil
}

// meta is who created the repository name, for {creator}, and its role
// members: as its config records them, none when it cannot be read
// (which grants nothing). For a repository that does not exist yet the
// creator is user, who would create it.
func (d *Driver) meta(name, user string) (string, map[string][]string) {
	dir := filepath.Join(d.repos, shim.DirName(name))
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); errors.Is(err, fs.ErrNotExist) {
		return user, nil
	}
	m, _ := ReadMeta(dir)
	return m.Creator, m.Roles
}

// Wanted is the access level a git command needs.
func Wanted(command string) (policy.Access, error) {
	switch command {
	case shim.UploadPack, shim.UploadArchive:
		return policy.Read, nil
	case shim.ReceivePack:
		return policy.Write, nil
	}
	return policy.None, fmt.Errorf("filedriver: unknown command %q", command)
}

// RepoPath is REPOS/NAME.git.
func (d *Driver) RepoPath(_ context.Context, path string) (string, error) {
	name, err := shim.CleanName(path)
	if err != nil {
		return "", err
	}
	return filepath.Join(d.repos, shim.DirName(name)), nil
}

// HasWebhook reports whether the policy in force has a webhook for the
// repository name: a push to it runs the post-receive hook that queues
// the deliveries. A policy that cannot be read counts as having one, so
// that the hook runs and logs why it queued nothing (the push itself is
// refused, as every decision is, until the policy reads again).
func (d *Driver) HasWebhook(repo string) bool {
	pol, err := d.policy.getFor(repo)
	return err != nil || pol.HasWebhook(repo)
}

// LoadPolicy reads and parses the policy file at path.
func LoadPolicy(path string) (*policy.Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	defer f.Close()
	return policy.Parse(path, f)
}
