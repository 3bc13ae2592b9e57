// Package authkeys answers sshd's AuthorizedKeysCommand: for a key the
// driver knows, offered for the ssh user, it prints one authorized_keys
// line whose forced command runs 'gitserver shell' for that user, and
// otherwise nothing. Its output is sshd's input, so it prints nothing
// else there, ever; what went wrong goes to the operator's log.
//
// sshd runs the command twice per login: gitserver answers it before it
// builds its command line (see shim/cli's fast path).
package authkeys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/gitserver/gitserver/internal/exe"
	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
	"github.com/gitserver/gitserver/shim"
)

// ErrLogged is returned for a failure already in the operator's log; the
// process exits 1 and prints nothing.
var ErrLogged = errors.New("authkeys: failed; see the log")

// Request is what sshd passes: %u %t %k.
type Request struct {
	Login   string // the login name the client asked for
	KeyType string // the offered key's type
	Key     string // the offered key, base64
}

// Run answers one AuthorizedKeysCommand call, writing the line (if any) to
// w. config is the absolute path of the config file, for the forced
// command. Unknown keys and other logins are no error.
func Run(ctx context.Context, w io.Writer, a *setup.App, config string, r Request) error {
	log := a.Log.Named("authorized-keys").With("login", hclog.Quote(r.Login))
	if r.Login != a.Cfg.SSHUser {
		log.Debug("login name is not the ssh user; no keys", "ssh_user", a.Cfg.SSHUser)
		return nil
	}
	key, err := sshkey.ParseKey(r.KeyType, r.Key)
	if err != nil {
		log.Info("offered key rejected", "type", hclog.Quote(r.KeyType), "error", err)
		return nil
	}
	log = log.With("key", key.Fingerprint)
	d, err := a.Driver()
	if err != nil {
		log.Error("cannot open driver", "error", err)
		return ErrLogged
	}
	// shim.Authenticate also refuses a username that is not valid: it
	// ends up in the forced command.
	user, err := shim.Authenticate(ctx, d, shim.Credentials{
		LoginUser: r.Login, KeyType: key.Type, Key: key.Blob, Fingerprint: key.Fingerprint,
	})
	if errors.Is(err, shim.ErrUnknownKey) {
		log.Debug("unknown key")
		return nil
	}
	if err != nil {
		log.Error("authenticate failed", "error", err)
		return ErrLogged
	}
	line, err := ForcedCommandLine(config, user, key)
	if err != nil {
		log.Error("cannot build forced command", "error", err)
		return ErrLogged
	}
	// sshd logs the accepted key, and the shell logs every session with
	// user and key: at info level this line would only repeat them, twice
	// per login.
	log.Debug("key accepted", "user", user)
	_, err = fmt.Fprintln(w, line)
	return err
}

// ForcedCommandLine is the authorized_keys line sshd gets back:
//
//	command="/abs/gitserver --config '/etc/gitserver/config.toml' shell --user alice --key SHA256:…",restrict ssh-ed25519 AAAA…
//
// sshd runs the command with the user's shell, so the paths are
// single-quoted for sh; inside command="…" only a double quote needs a
// backslash. restrict turns off forwarding, the pty and ~/.ssh/rc.
func ForcedCommandLine(config, user string, key keys.Key) (string, error) {
	self, err := exe.Self()
	if err != nil {
		return "", err
	}
	cmd := strings.Join([]string{
		ShellQuote(self), "--config", ShellQuote(config),
		"shell", "--user", ShellQuote(user), "--key", ShellQuote(key.Fingerprint),
	}, " ")
	if strings.ContainsAny(cmd, "\n\r\x00") {
		return "", fmt.Errorf("a path holds a newline or NUL: %q", cmd)
	}
	cmd = strings.ReplaceAll(cmd, `"`, `\"`)
	return fmt.Sprintf(`command="%s",restrict %s`, cmd, key.AuthorizedKey()), nil
}

// ShellQuote quotes s for a POSIX shell: 'it'\”s'. Safe words stay bare.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,:@=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
