package filedriver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/policy"
)

// WalkRepos calls fn for every repository under root, in lexical order:
// a directory NAME.git holding a HEAD is the repository NAME, and is not
// descended into. A missing root is an error that says to run init.
func WalkRepos(root string, fn func(name, dir string) error) error {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() || p == root || !strings.HasSuffix(p, ".git") {
			return nil
		}
		if _, err := os.Stat(filepath.Join(p, "HEAD")); err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if err := fn(strings.TrimSuffix(filepath.ToSlash(rel), ".git"), p); err != nil {
			return err
		}
		return filepath.SkipDir
	})
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("repos root %s does not exist; run 'gitserver init'", root)
	}
	return err
}

// Policy returns the policy the driver decides with now: the file as it
// is, read again if it changed since the last call or decision. An error
// means the file cannot be read or does not parse.
func (d *Driver) Policy() (*policy.Policy, error) { return d.policy.get() }

// KeyStore returns the key store the driver authenticates with.
func (d *Driver) KeyStore() *keys.Store { return d.store }
