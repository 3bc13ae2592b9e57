package cli

import (
	"fmt"

	"github.com/alecthomas/kong"

	"github.com/gitserver/gitserver/internal/version"
)

// VersionCmd prints the module version and VCS revision of this build.
type VersionCmd struct {
	BuildID bool `name:"build-id" help:"Print only the build id that gitserver and gitserver-http-driver compare."`
}

// Run prints the version line, or the build id.
func (c *VersionCmd) Run(e *env) error {
	v := version.Get()
	if c.BuildID {
		_, err := fmt.Fprintln(e.stdout, v.BuildID())
		return err
	}
	_, err := fmt.Fprintln(e.stdout, v)
	return err
}

// versionFlag is --version: the same line as 'gitserver version'.
type versionFlag bool

// BeforeReset prints the version and exits, before any required argument
// or command is asked for.
func (versionFlag) BeforeReset(app *kong.Kong, e *env) error {
	fmt.Fprintln(e.stdout, version.Get())
	app.Exit(0)
	return nil
}
