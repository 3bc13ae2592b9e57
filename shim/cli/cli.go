// Package cli is the gitserver command line: one file per subcommand,
// wiring config, logger, driver and the packages that do the work. It is
// a package rather than package main so that a program of your own can
// register a driver (shim.Register) and run the same CLI with it:
//
//	func main() {
//		shim.Register("mydb", newMyDriver)
//		os.Exit(cli.Main())
//	}
//
// The built-in drivers (file, exec, http) are always registered.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/alecthomas/kong"

	_ "github.com/gitserver/gitserver/internal/execdriver"
	_ "github.com/gitserver/gitserver/internal/filedriver"
	_ "github.com/gitserver/gitserver/internal/httpdriver/httpconf"
)

// CLI is the command line. One file per subcommand holds its struct.
type CLI struct {
	Config  string      `help:"Config file (env GITSERVER_CONFIG)." env:"GITSERVER_CONFIG" default:"/etc/gitserver/config.toml" type:"path" placeholder:"FILE"`
	Version versionFlag `name:"version" help:"Print the version and exit."`

	Init           InitCmd           `cmd:"" help:"Write a starter config and policy, create the repository and data directories."`
	Keys           KeysCmd           `cmd:"" help:"Manage the SSH keys in the key store."`
	DeployKeys     DeployKeysCmd     `cmd:"" name:"deploy-keys" help:"Manage deploy keys: keys that are no user's, reaching only the repositories they are bound to."`
	Repos          ReposCmd          `cmd:"" help:"Create and list repositories."`
	Hooks          HooksCmd          `cmd:"" name:"hooks" help:"Webhook deliveries: list those waiting or failed, redeliver one."`
	Deliver        DeliverCmd        `cmd:"" help:"Send the webhook deliveries pushes queue, until SIGTERM (behind sshd, as a systemd service; serve runs it itself)."`
	Maintain       MaintainCmd       `cmd:"" help:"Keep repositories fast: pack loose objects, roll packs up, commit-graph, a weekly full gc; decided from what each holds."`
	ReadOnly       ReadOnlyCmd       `cmd:"" name:"read-only" help:"Switch this host's read-only mode (pushes refused with a message), for migrations and backups."`
	LFS            LFSCmd            `cmd:"" name:"lfs" help:"Git LFS: remove objects no ref reaches (gc)."`
	Import         ImportCmd         `cmd:"" help:"Import users, keys and access rules from another git server (gitolite)."`
	Policy         PolicyCmd         `cmd:"" help:"Replace the access policy, checked first; with [store], for every host."`
	Access         AccessCmd         `cmd:"" help:"Explain whether USER may read or write REPO, and which rule decides."`
	Check          CheckCmd          `cmd:"" help:"Check config, policy, key store, owners and modes; print each problem with a hint."`
	SSHDConfig     SSHDConfigCmd     `cmd:"" name:"sshd-config" help:"Print the sshd drop-in (sshd_config.d/gitserver.conf) that puts gitserver behind OpenSSH."`
	AuthorizedKeys AuthorizedKeysCmd `cmd:"" name:"authorized-keys" help:"sshd's AuthorizedKeysCommand: print the forced-command line for a known key."`
	Shell          ShellCmd          `cmd:"" help:"sshd's forced command: check SSH_ORIGINAL_COMMAND, authorize, run git."`
	Serve          ServeCmd          `cmd:"" help:"Run the built-in SSH server (no OpenSSH needed); without a config file, everything lives in ./gitserver-data."`
	Replicate      ReplicateCmd      `cmd:"" help:"Keep this host's keys and policy a replica of PostgreSQL ([store]); --status says how current it is."`
	VersionCmd     VersionCmd        `cmd:"" name:"version" help:"Print the module version and VCS revision of this build."`
	Hook           HookCmd           `cmd:"" hidden:"" help:"Run by git inside a push, from gitserver's hooks directory: check ref updates, then run the repository's own hook."`
}

const description = `Host git repositories over SSH.

gitserver runs behind the host's OpenSSH: sshd asks 'gitserver authorized-keys'
who an offered key belongs to, then runs 'gitserver shell', which checks the
git command against the policy and runs git. Start with 'gitserver init', then
'gitserver sshd-config' and 'gitserver check'.`

// exitError carries an exit code without a message: the command has
// already said what it had to say.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// env is what commands read and write besides their flags. Tests set it
// to run commands in-process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	ctx    context.Context
}

// Main runs the command line in os.Args on the process's stdio and
// environment and returns the exit code; the caller (main) passes it to
// os.Exit, which nothing else calls.
func Main() int {
	e := &env{os.Stdin, os.Stdout, os.Stderr, os.Getenv, context.Background()}
	return run(e, os.Args[1:])
}

// run parses args, runs the command and returns the exit code. Errors go
// to stderr with the program's prefix.
func run(e *env, args []string) int {
	if code, ok := fastPath(e, args); ok {
		return code
	}
	var cli CLI
	code := -1
	parser, err := kong.New(&cli,
		kong.Name("gitserver"),
		kong.Description(description),
		kong.Writers(e.stdout, e.stderr),
		kong.Exit(func(c int) { code = c; panic(exitError(c)) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Bind(e),
	)
	if err != nil {
		fmt.Fprintf(e.stderr, "gitserver: %v\n", err)
		return 2
	}
	var ctx *kong.Context
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(exitError); !ok {
					panic(r)
				}
			}
		}()
		ctx, err = parser.Parse(args)
	}()
	if code >= 0 {
		return code
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "gitserver: %v\n", err)
		var pe *kong.ParseError
		if errors.As(err, &pe) && pe.Context != nil {
			fmt.Fprintf(e.stderr, "hint: run 'gitserver %s--help'\n", commandPath(pe.Context))
		}
		return 2
	}
	return exitCode(e, ctx.Run(&cli))
}

// commandPath is the subcommand being parsed, e.g. "keys add".
func commandPath(ctx *kong.Context) string {
	path := ""
	for _, p := range ctx.Path {
		if p.Command != nil {
			path += " " + p.Command.Name
		}
	}
	if path == "" {
		return ""
	}
	return path[1:] + " "
}
