package cli

import (
	"github.com/gitserver/gitserver/internal/setup"
)

// app is a loaded config and the operator's logger (setup.App), with the
// methods the commands here add to it.
type app struct{ *setup.App }

// load reads the config and opens the log. It never logs to stderr: behind
// sshd, stderr is the SSH client's.
func load(cli *CLI) (*app, error) {
	a, err := setup.Load(cli.Config)
	if err != nil {
		return nil, err
	}
	return &app{a}, nil
}

// loadConfig is load without looking up the ssh user (setup.LoadConfig).
func loadConfig(cli *CLI) (*app, error) {
	a, err := setup.LoadConfig(cli.Config)
	if err != nil {
		return nil, err
	}
	return &app{a}, nil
}
