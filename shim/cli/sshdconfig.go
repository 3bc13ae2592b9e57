package cli

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/internal/exe"
	"github.com/gitserver/gitserver/internal/sshdconf"
)

// SSHDConfigCmd prints the sshd_config block for gitserver.
type SSHDConfigCmd struct {
	KeysUser string `help:"AuthorizedKeysCommandUser: who runs authorized-keys (default: the ssh user, who can read the key store)." placeholder:"USER"`
	Append   bool   `help:"Print the block to append to /etc/ssh/sshd_config, for systems whose sshd_config includes no sshd_config.d."`
	// ForceCommand is the ExposeAuthInfo alternative: sshd reads the
	// keys from a file itself, and 'gitserver shell' learns from
	// SSH_USER_AUTH which one logged in.
	ForceCommand bool   `name:"force-command" help:"sshd reads the keys itself from --keys-file (ForceCommand gitserver shell, ExposeAuthInfo yes) instead of asking 'gitserver authorized-keys'. Each key there must also be in gitserver's key store, which says whose it is."`
	KeysFile     string `name:"keys-file" help:"With --force-command: the authorized_keys file sshd reads (default: authorized_keys beside the config file, outside the repos root)." placeholder:"FILE"`
}

// Validate refuses --keys-file without --force-command.
func (c *SSHDConfigCmd) Validate() error {
	if c.KeysFile != "" && !c.ForceCommand {
		return errors.New("--keys-file goes with --force-command")
	}
	return nil
}

// sshdTemplate is parsed when sshd-config runs, not at start-up.
const sshdTemplate = `{{if .Append}}# gitserver: append to /etc/ssh/sshd_config (a Match block lasts to the end
# of the file, so keep it last), then check and reload:
{{else}}# gitserver: save as /etc/ssh/sshd_config.d/gitserver.conf (Debian's and most
# distributions' sshd_config include sshd_config.d/*.conf; without that, use
# 'gitserver sshd-config --append'). It applies to the ssh user only, and
# removing the file undoes it. Then check and reload (no session is dropped):
{{end}}#   sshd -t && systemctl reload ssh
{{if .ForceCommand}}# sshd reads the keys from {{.KeysFile}} (root's, mode 644: sshd
# checks its owner and modes); each must also be in gitserver's key store,
# which says whose it is and can revoke it:
#   gitserver keys list --authorized-keys > {{.KeysFile}}
{{end}}# The user's login shell must be a POSIX shell (sshd runs the forced command
# with it), its password '*' (sshd without PAM refuses '!'-locked accounts),
# and its home outside the repos root:
#   useradd --system --user-group --shell /bin/sh --home-dir {{.Home}} {{.User}}
#   usermod --password '*' {{.User}}
Match User {{.User}}
{{- if .ForceCommand}}
	AuthorizedKeysFile {{.KeysFile}}
	ForceCommand {{.Command}} shell
	ExposeAuthInfo yes
{{- else}}
	AuthorizedKeysFile none
	AuthorizedKeysCommand {{.Command}} authorized-keys %u %t %k
	AuthorizedKeysCommandUser {{.KeysUser}}
{{- end}}
	PubkeyAuthentication yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PermitTTY no
	DisableForwarding yes
	PermitTunnel no
	PermitUserRC no
	AcceptEnv GIT_PROTOCOL
`

// Run prints the block with absolute paths.
func (c *SSHDConfigCmd) Run(cli *CLI, e *env) error {
	cfg, err := config.Load(cli.Config)
	if err != nil {
		return err
	}
	cmd, err := sshdCommand(cfg.File, e.stderr)
	if err != nil {
		return err
	}
	keysUser := c.KeysUser
	if keysUser == "" {
		keysUser = cfg.SSHUser
	}
	keysFile, err := c.keysFile(cfg)
	if err != nil {
		return err
	}
	return template.Must(template.New("sshd").Parse(sshdTemplate)).Execute(e.stdout, map[string]any{
		"User": cfg.SSHUser, "KeysUser": keysUser, "Command": cmd, "Append": c.Append,
		"ForceCommand": c.ForceCommand, "KeysFile": keysFile, "Home": cfg.DataDir,
	})
}

// keysFile is the authorized_keys file sshd reads with --force-command:
// absolute, outside the repos root (where a repository could be named
// after it), and a path sshd_config can carry.
func (c *SSHDConfigCmd) keysFile(cfg *config.Config) (string, error) {
	f := c.KeysFile
	if f == "" {
		f = filepath.Join(filepath.Dir(cfg.File), "authorized_keys")
	}
	f, err := filepath.Abs(f)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(f, " \t\"'\\%\n") {
		return "", fmt.Errorf("keys file %q holds a space, quote, %% or backslash, which sshd_config cannot carry safely; choose another", f)
	}
	if sshdconf.Inside(f, cfg.Repos) {
		return "", fmt.Errorf("keys file %s is inside the repos root %s; choose one outside it, e.g. %s", f, cfg.Repos, filepath.Join(filepath.Dir(cfg.File), "authorized_keys"))
	}
	return f, nil
}

// sshdCommand is "/abs/gitserver --config /abs/config.toml". sshd splits
// the line on spaces (with double quotes), so paths with spaces or quotes
// are refused rather than guessed at.
func sshdCommand(configFile string, warn io.Writer) (string, error) {
	self, err := exe.Self()
	if err != nil {
		return "", err
	}
	for _, p := range []string{self, configFile} {
		if strings.ContainsAny(p, " \t\"'\\%\n") {
			return "", fmt.Errorf("path %q holds a space, quote, %% or backslash, which sshd_config cannot carry safely; move it", p)
		}
	}
	if strings.Contains(self, "/go-build") {
		fmt.Fprintf(warn, "gitserver: warning: %s is a temporary 'go run' build; install the binary (e.g. /usr/local/bin/gitserver) and run this again\n", self)
	}
	return self + " --config " + configFile, nil
}
