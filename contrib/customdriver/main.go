// Command gitserver-custom shows how to build gitserver with a driver of
// your own compiled in: register it with shim.Register, then run the
// stock command line. Everything else (sshd integration, serve, the
// command parser, path checks, git execution, logging) is gitserver's.
//
//	go build -o /usr/local/bin/gitserver ./contrib/customdriver
//
// Like gitserver itself it is one program: build it static
// (CGO_ENABLED=0) as the README builds gitserver.
//
// and in config.toml:
//
//	driver = "teams"
//
//	[drivers.teams]
//	keys_dir = "/etc/gitserver/teams"   # TEAM/USER.pub files
//
// The "teams" driver: a key in keys_dir/TEAM/USER.pub belongs to USER of
// TEAM; everyone may read every repository, and a user may push to the
// repositories under their team's name (TEAM/...). It is an example, not
// a policy to copy.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
	"github.com/gitserver/gitserver/shim"
	"github.com/gitserver/gitserver/shim/cli"
)

func init() { shim.Register("teams", newTeams) }

func main() { os.Exit(cli.Main()) }

type settings struct {
	KeysDir string `toml:"keys_dir"`
}

// teams is the example driver.
type teams struct {
	keysDir string
	repos   string
}

// member is its user model.
type member struct{ user, team string }

var _ shim.Driver = (*teams)(nil)

func newTeams(cfg shim.DriverConfig) (shim.Driver, error) {
	var s settings
	if err := cfg.DecodeSettings(&s); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(s.KeysDir) {
		return nil, fmt.Errorf("teams: keys_dir %q must be an absolute directory", s.KeysDir)
	}
	return &teams{keysDir: s.KeysDir, repos: cfg.Repos}, nil
}

// Authenticate finds the .pub file holding the key.
func (t *teams) Authenticate(_ context.Context, c shim.Credentials) (string, error) {
	m, err := t.find(func(_ string, k keys.Key) bool { return k.Fingerprint == c.Fingerprint })
	if err != nil {
		return "", err
	}
	return m.user, nil
}

// GetUserModel finds the user's team.
func (t *teams) GetUserModel(_ context.Context, user string) (shim.UserModel, error) {
	m, err := t.find(func(u string, _ keys.Key) bool { return u == user })
	if errors.Is(err, shim.ErrUnknownKey) {
		return nil, shim.ErrUnknownUser
	}
	return m, err
}

// Authorize: read everything, push to TEAM/...
func (t *teams) Authorize(_ context.Context, model shim.UserModel, command, path string) (shim.Decision, error) {
	m, ok := model.(member)
	if !ok {
		return shim.Decision{}, errors.New("teams: foreign user model")
	}
	name, err := shim.CleanName(path)
	if err != nil {
		return shim.Decision{}, err
	}
	if command != shim.ReceivePack {
		return shim.Decision{Allow: true, Rule: "teams: everyone reads"}, nil
	}
	own := strings.HasPrefix(name, m.team+"/")
	return shim.Decision{Allow: own, Rule: "teams: push to own team"}, nil
}

// RepoPath is REPOS/NAME.git.
func (t *teams) RepoPath(_ context.Context, path string) (string, error) {
	name, err := shim.CleanName(path)
	if err != nil {
		return "", err
	}
	return filepath.Join(t.repos, shim.DirName(name)), nil
}

// find walks keys_dir/TEAM/USER.pub for the first key match accepts.
func (t *teams) find(match func(user string, k keys.Key) bool) (member, error) {
	files, err := filepath.Glob(filepath.Join(t.keysDir, "*", "*.pub"))
	if err != nil {
		return member{}, err
	}
	for _, f := range files {
		user := strings.TrimSuffix(filepath.Base(f), ".pub")
		team := filepath.Base(filepath.Dir(f))
		if keys.ValidUsername(user) != nil || keys.ValidUsername(team) != nil {
			continue
		}
		if ok, err := fileHas(f, user, match); err != nil {
			return member{}, err
		} else if ok {
			return member{user: user, team: team}, nil
		}
	}
	return member{}, shim.ErrUnknownKey
}

func fileHas(path, user string, match func(string, keys.Key) bool) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, err := sshkey.ParseLine(sc.Text()); err == nil && match(user, k) {
			return true, nil
		}
	}
	return false, sc.Err()
}
