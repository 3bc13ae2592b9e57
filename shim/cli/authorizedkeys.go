package cli

import (
	"errors"

	"github.com/gitserver/gitserver/internal/authkeys"
)

// AuthorizedKeysCmd is sshd's AuthorizedKeysCommand (%u %t %k). For a key
// the driver knows, offered for the ssh user, it prints one
// authorized_keys line whose forced command runs 'gitserver shell' for
// that user; otherwise it prints nothing. Its stdout is sshd's input, so
// it prints nothing else there, ever. See package internal/authkeys.
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
	err = authkeys.Run(e.ctx, e.stdout, a.App, cli.Config,
		authkeys.Request{Login: c.User, KeyType: c.KeyType, Key: c.Key})
	if errors.Is(err, authkeys.ErrLogged) {
		return exitError(1)
	}
	return err
}
