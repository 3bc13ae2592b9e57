package cli

import (
	"fmt"
	"io"
	"strings"
	"text/template"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/internal/exe"
)

// SSHDConfigCmd prints the sshd_config block for gitserver.
type SSHDConfigCmd struct {
	KeysUser string `help:"AuthorizedKeysCommandUser: who runs authorized-keys (default: the ssh user, who can read the key store)." placeholder:"USER"`
	Append   bool   `help:"Print the block to append to /etc/ssh/sshd_config, for systems whose sshd_config includes no sshd_config.d."`
}

// sshdTemplate is parsed when sshd-config runs, not at start-up.
const sshdTemplate = `{{if .Append}}# gitserver: append to /etc/ssh/sshd_config (a Match block lasts to the end
# of the file, so keep it last), then check and reload:
{{else}}# gitserver: save as /etc/ssh/sshd_config.d/gitserver.conf (Debian's and most
# distributions' sshd_config include sshd_config.d/*.conf; without that, use
# 'gitserver sshd-config --append'). It applies to the ssh user only, and
# removing the file undoes it. Then check and reload (no session is dropped):
{{end}}#   sshd -t && systemctl reload ssh
# The user's login shell must be a POSIX shell (sshd runs the forced command
# with it), and its password '*' (sshd without PAM refuses '!'-locked accounts):
#   useradd --system --user-group --shell /bin/sh --home-dir /srv/git {{.User}}
#   usermod --password '*' {{.User}}
Match User {{.User}}
	AuthorizedKeysFile none
	AuthorizedKeysCommand {{.Command}} authorized-keys %u %t %k
	AuthorizedKeysCommandUser {{.KeysUser}}
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
	return template.Must(template.New("sshd").Parse(sshdTemplate)).Execute(e.stdout, map[string]any{
		"User": cfg.SSHUser, "KeysUser": keysUser, "Command": cmd, "Append": c.Append,
	})
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
