package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"text/template"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/internal/setup"
)

// InitCmd writes a starter config and policy and creates the directories.
type InitCmd struct {
	SSHUser string `name:"ssh-user" default:"git" help:"Login name clients use (git@host); must exist as a system user when run as root." placeholder:"USER"`
	Repos   string `default:"/srv/git" type:"path" help:"Repository root." placeholder:"DIR"`
	DataDir string `name:"data-dir" default:"/var/lib/gitserver" type:"path" help:"Data directory (key store, log)." placeholder:"DIR"`
	Policy  string `default:"" type:"path" help:"Policy file (default: policy.toml beside the config)." placeholder:"FILE"`
}

// configTemplate is parsed when init runs, not at start-up: every sshd
// login starts this program.
const configTemplate = `# gitserver configuration. Unknown keys are errors: 'gitserver check' tells.

# Login name clients use: git clone {{.SSHUser}}@host:owner/repo.git
ssh_user = "{{.SSHUser}}"

# Every repository lives below this directory, as NAME.git.
repos = "{{.Repos}}"

# Key store (keys.db) and, by default, the log.
data_dir = "{{.DataDir}}"

# Access rules for the file driver; 'gitserver access USER REPO' explains them.
policy = "{{.Policy}}"

# Who authenticates and authorizes: "file" uses the key store and the policy.
driver = "file"

[log]
# A file, or "syslog". Empty means data_dir/gitserver.log. Never stderr:
# behind sshd, stderr belongs to the client.
file = ""
# trace, debug, info, warn or error.
level = "info"
# text or json.
format = "text"
`

const starterPolicy = `# gitserver access policy. Rules are tried in order; the first rule whose
# repos, users and refs all match decides. No match denies.
#
# Levels, each including the ones before it:
#   none    nothing; stops the search (gitolite's "-")
#   read    clone, fetch, archive
#   write   push new refs (tags too) and fast-forwards
#   force   also non-fast-forward pushes, deletes, any change to an existing tag
#   create  also create a missing repository by pushing to it
#   admin   everything, and other users' keys over SSH (keys ... --user NAME)
#
# Fields of a [[rule]]:
#   repos       repository patterns: * within one path part, ** across
#               parts, {user} is the user asking, {creator} who created it
#   repos_regex the same as regular expressions, matched whole
#   users       user names, @group, or @all
#   refs        optional ref patterns ("main" is refs/heads/main; a rule
#               with refs decides pushes of those refs only)
#   refs_regex  the same as regular expressions on the full ref name
#   access      one of the levels above
#
# Check a decision with: gitserver access USER REPO [LEVEL] [--ref REF]

[groups]
# Put the administrators' user names here, e.g. admins = ["alice"].
admins = []

[[rule]]
repos  = ["**"]
users  = ["@admins"]
access = "admin"

# Everyone has a space of their own, users/NAME/..., and creates
# repositories there by pushing to them.
[[rule]]
repos  = ["users/{user}/**"]
users  = ["@all"]
access = "create"
`

// Run never overwrites an existing file.
func (c *InitCmd) Run(cli *CLI, e *env) error {
	cfg := config.Default()
	cfg.SSHUser, cfg.Repos, cfg.DataDir = c.SSHUser, c.Repos, c.DataDir
	cfg.Policy = c.Policy
	if cfg.Policy == "" {
		cfg.Policy = filepath.Join(filepath.Dir(cli.Config), "policy.toml")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	own, err := setup.OwnerFor(cfg.SSHUser, cfg.DataDir)
	if err != nil {
		return err
	}
	a := &app{&setup.App{Cfg: &cfg, Owner: own}}
	if err := os.MkdirAll(filepath.Dir(cli.Config), 0o755); err != nil {
		return err
	}
	if err := writeNew(e, cli.Config, func(f *os.File) error {
		return template.Must(template.New("config").Parse(configTemplate)).Execute(f, cfg)
	}); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Policy), 0o755); err != nil {
		return err
	}
	if err := writeNew(e, cfg.Policy, func(f *os.File) error { _, err := f.WriteString(starterPolicy); return err }); err != nil {
		return err
	}
	for _, dir := range []string{cfg.Repos, cfg.DataDir} {
		if err := a.MkdirOwned(dir); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "directory %s ready\n", dir)
	}
	cfg.File = cli.Config
	hooksDir, err := a.EnsureHooks()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "hooks %s ready\n", hooksDir)
	c.nextSteps(e, cli.Config, cfg.Policy)
	return nil
}

// writeNew creates path with the content write gives it, or says that it
// is already there. Config and policy stay root's: the ssh user reads them
// but must not be able to change who may do what.
func writeNew(e *env, path string, write func(*os.File) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		fmt.Fprintf(e.stdout, "kept existing %s\n", path)
		return nil
	}
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", path)
	return nil
}

// nextSteps prints what to do next, in the README's order.
func (c *InitCmd) nextSteps(e *env, config, policy string) {
	g := "gitserver --config " + config
	fmt.Fprintf(e.stdout, `next steps:
  1. add your key:          %s keys add --user NAME ~/.ssh/id_ed25519.pub
  2. create a repository:   %s repos create team/app
  3. make NAME an admin:    edit %s (admins = ["NAME"]), then
                            %s access NAME team/app admin
  4. put it behind sshd:    %s sshd-config
  5. check the setup:       %s check
`, g, g, policy, g, g, g)
}
