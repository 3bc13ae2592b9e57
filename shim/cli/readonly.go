package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/gitserver/gitserver/internal/atomicfile"
	"github.com/gitserver/gitserver/internal/setup"
)

// ReadOnlyCmd switches this host's read-only mode.
type ReadOnlyCmd struct {
	On     ReadOnlyOnCmd     `cmd:"" help:"Refuse every push and LFS upload on this host, with a message for the clients (for migrations and backups)."`
	Off    ReadOnlyOffCmd    `cmd:"" help:"Take pushes again."`
	Status ReadOnlyStatusCmd `cmd:"" default:"1" help:"Say whether this host is read-only, and its message."`
}

// ReadOnlyOnCmd turns read-only mode on.
type ReadOnlyOnCmd struct {
	Message string `arg:"" optional:"" help:"What clients are told after 'gitserver: the server is read-only: ' (one line, at most 200 bytes)." placeholder:"MESSAGE"`
}

// Run writes the switch file, atomically, with the message.
func (c *ReadOnlyOnCmd) Run(cli *CLI, e *env) error {
	if err := setup.CheckReadOnlyMessage(c.Message); err != nil {
		return err
	}
	a, err := loadConfig(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := atomicfile.Write(a.ReadOnlyPath(), []byte(c.Message+"\n"), 0o644, -1, -1); err != nil {
		return err
	}
	a.Log.Named("read-only").Info("read-only mode on", "message", c.Message)
	fmt.Fprintf(e.stdout, "read-only: pushes and LFS uploads are refused on this host (%s); 'gitserver read-only off' ends it\n", a.ReadOnlyPath())
	return nil
}

// ReadOnlyOffCmd turns read-only mode off.
type ReadOnlyOffCmd struct{}

// Run removes the switch file.
func (c *ReadOnlyOffCmd) Run(cli *CLI, e *env) error {
	a, err := loadConfig(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := os.Remove(a.ReadOnlyPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	a.Log.Named("read-only").Info("read-only mode off")
	fmt.Fprintln(e.stdout, "read-only: off; pushes are taken")
	return nil
}

// ReadOnlyStatusCmd reports read-only mode.
type ReadOnlyStatusCmd struct{}

// Run prints on or off, and the message.
func (c *ReadOnlyStatusCmd) Run(cli *CLI, e *env) error {
	a, err := loadConfig(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	on, msg, err := a.ReadOnly()
	if err != nil {
		return err
	}
	if !on {
		fmt.Fprintln(e.stdout, "read-only: off")
		return nil
	}
	fmt.Fprintf(e.stdout, "read-only: on: %q\n", msg)
	return nil
}
