package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
	"github.com/gitserver/gitserver/shim"
)

// AuthorizedKeysCmd is sshd's AuthorizedKeysCommand (%u %t %k). For a key
// the driver knows, offered for the ssh user, it prints one
// authorized_keys line whose forced command runs 'gitserver shell' for
// that user; otherwise it prints nothing. Its stdout is sshd's input, so
// it prints nothing else there, ever.
type AuthorizedKeysCmd struct {
	User    string `arg:"" help:"Login name the client asked for (sshd's %u)."`
	KeyType string `arg:"" help:"Type of the offered key (sshd's %t)."`
	Key     string `arg:"" help:"Base64 of the offered key (sshd's %k)."`
}

// Run looks the key up and prints the forced-command line.
func (c *AuthorizedKeysCmd) Run(cli *CLI, e *env) error {
	a, err := loadConfig(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	log := a.Log.Named("authorized-keys").With("login", c.User)
	if c.User != a.Cfg.SSHUser {
		log.Debug("login name is not the ssh user; no keys", "ssh_user", a.Cfg.SSHUser)
		return nil
	}
	key, err := sshkey.ParseKey(c.KeyType, c.Key)
	if err != nil {
		log.Info("offered key rejected", "type", c.KeyType, "error", err)
		return nil
	}
	log = log.With("key", key.Fingerprint)
	d, err := a.Driver()
	if err != nil {
		log.Error("cannot open driver", "error", err)
		return exitError(1)
	}
	user, err := d.Authenticate(e.ctx, shim.Credentials{
		LoginUser: c.User, KeyType: key.Type, Key: key.Blob, Fingerprint: key.Fingerprint,
	})
	if errors.Is(err, shim.ErrUnknownKey) {
		log.Debug("unknown key")
		return nil
	}
	if err != nil {
		log.Error("authenticate failed", "error", err)
		return exitError(1)
	}
	if keys.ValidUsername(user) != nil {
		log.Error("driver returned an invalid username", "user", user)
		return exitError(1)
	}
	line, err := forcedCommandLine(cli.Config, user, key)
	if err != nil {
		log.Error("cannot build forced command", "error", err)
		return exitError(1)
	}
	log.Info("key accepted", "user", user)
	_, err = fmt.Fprintln(e.stdout, line)
	return err
}

// forcedCommandLine is the authorized_keys line sshd gets back:
//
//	command="/abs/gitserver --config '/etc/gitserver/config.toml' shell --user alice --key SHA256:…",restrict ssh-ed25519 AAAA…
//
// sshd runs the command with the user's shell, so the paths are
// single-quoted for sh; inside command="…" only a double quote needs a
// backslash. restrict turns off forwarding, the pty and ~/.ssh/rc.
func forcedCommandLine(config, user string, key keys.Key) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	cmd := strings.Join([]string{
		shellQuote(exe), "--config", shellQuote(config),
		"shell", "--user", shellQuote(user), "--key", shellQuote(key.Fingerprint),
	}, " ")
	if strings.ContainsAny(cmd, "\n\r\x00") {
		return "", fmt.Errorf("a path holds a newline or NUL: %q", cmd)
	}
	cmd = strings.ReplaceAll(cmd, `"`, `\"`)
	return fmt.Sprintf(`command="%s",restrict %s`, cmd, key.AuthorizedKey()), nil
}

// shellQuote quotes s for a POSIX shell: 'it'\”s'. Safe words stay bare.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,:@=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
