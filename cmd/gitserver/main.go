// Command gitserver hosts git repositories over SSH, behind OpenSSH
// (authorized-keys and shell) or on its own listener (serve). It is wiring
// only: the command line is package shim/cli, which a program of your own
// can run with a driver of yours registered (see contrib/customdriver).
package main

import (
	"os"

	"github.com/gitserver/gitserver/shim/cli"
)

func main() { os.Exit(cli.Main()) }
