// Package execdriver is the "exec" driver: a program in any language
// answers the four driver operations as JSON lines on its stdin and
// stdout (contrib/drivers/PROTOCOL.md). It is configured by
//
//	driver = "exec"
//
//	[drivers.exec]
//	command = ["/usr/local/libexec/gitserver/driver", "--some", "arg"]
//	timeout = "5s"
//
// The program is started on the first operation and serves every later
// one of the same gitserver run (authorized-keys, shell); Close closes
// its stdin and waits for it. Operations are serialized.
//
// # Security
//
// The program is run directly (no shell) by absolute path. That path,
// after symlinks, and every directory above it must belong to root or to
// the user gitserver runs as and must not be group or world writable,
// since whoever can replace it decides who gets in; New refuses anything
// else with an *exe.UnsafeError (package internal/exe). It gets a minimal environment built
// from scratch (a fixed PATH, HOME, LANG=C.UTF-8): behind sshd,
// gitserver's own environment holds the client's SSH_* variables, and
// none of it is passed on. It runs in "/".
//
// Every failure denies, with the reason in the returned error (and so in
// the operator's log): an exit, a timeout (the whole operation, handshake
// included), a line longer than wire.MaxMessage, anything that is not the
// expected JSON answer. After a failure the program is killed (with its
// process group) and the next operation starts a new one. Its stderr goes
// to no one but the error messages, which quote its last lines.
package execdriver

import (
	"errors"
	"fmt"
	"time"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/internal/exe"
	"github.com/gitserver/gitserver/internal/execdriver/wire"
	"github.com/gitserver/gitserver/shim"
)

// DefaultTimeout bounds one operation when the config sets no timeout.
const DefaultTimeout = 5 * time.Second

func init() {
	shim.Register("exec", func(cfg shim.DriverConfig) (shim.Driver, error) {
		s := Settings{Timeout: config.Duration(DefaultTimeout)}
		if err := cfg.DecodeSettings(&s); err != nil {
			return nil, err
		}
		return New(s)
	})
}

// Settings is the [drivers.exec] table.
type Settings struct {
	// Command is the program and its arguments; Command[0] is absolute.
	Command []string `toml:"command"`
	// Timeout bounds each operation, starting the program included.
	Timeout config.Duration `toml:"timeout"`
}

// Driver is the exec driver. Its methods are safe for concurrent use.
type Driver struct {
	wire.Client
	argv    []string
	timeout time.Duration
	proc    *process // nil until the first operation, and after a failure
	id      int64
	mu      chan struct{} // a lock that waiting operations can give up on
}

var _ shim.Driver = (*Driver)(nil)

// New checks s and returns a driver whose program starts at the first
// operation.
func New(s Settings) (*Driver, error) {
	if len(s.Command) == 0 {
		return nil, errors.New(`execdriver: [drivers.exec] command is empty; set command = ["/abs/path/of/driver", "args"...]`)
	}
	if s.Timeout <= 0 {
		return nil, fmt.Errorf("execdriver: [drivers.exec] timeout %v must be positive", time.Duration(s.Timeout))
	}
	if err := exe.Check(s.Command[0]); err != nil {
		return nil, fmt.Errorf("execdriver: command: %w", err)
	}
	d := &Driver{argv: append([]string(nil), s.Command...), timeout: time.Duration(s.Timeout), mu: make(chan struct{}, 1)}
	d.Name, d.Do = "execdriver", d.roundTrip
	return d, nil
}
