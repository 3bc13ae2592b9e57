// Command gitserver hosts git repositories over SSH, behind OpenSSH
// (authorized-keys and shell) or on its own listener (serve). The
// commands live in package cli.
package main

import (
	"os"

	"github.com/gitserver/gitserver/cmd/gitserver/cli"
)

func main() { os.Exit(cli.Main()) }
