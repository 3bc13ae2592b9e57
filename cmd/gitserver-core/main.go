// Command gitserver-core is the full gitserver program: every subcommand,
// with kong's command line, the built-in SSH server and key validation.
// It is installed beside the front binary, gitserver, which starts it for
// everything but sshd's AuthorizedKeysCommand (see cmd/gitserver); run by
// itself it is a complete gitserver too.
package main

import (
	"os"

	"github.com/gitserver/gitserver/cmd/gitserver/cli"
)

func main() { os.Exit(cli.Main()) }
