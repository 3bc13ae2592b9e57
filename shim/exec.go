package shim

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"syscall"
)

// Command returns the exec.Cmd that runs p with the given stdio. Env is
// always set explicitly (a nil Env would inherit this process's, which
// behind sshd holds SSH_ORIGINAL_COMMAND and whatever AcceptEnv let in),
// and git runs directly, never through a shell.
func (p *Plan) Command(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) *exec.Cmd {
	c := exec.CommandContext(ctx, p.Argv[0], p.Argv[1:]...)
	c.Env = append([]string{}, p.Env...)
	c.Dir = p.Dir
	c.Stdin, c.Stdout, c.Stderr = stdin, stdout, stderr
	c.Cancel = func() error { return c.Process.Signal(syscall.SIGTERM) }
	return c
}

// ExitCode turns the error of exec.Cmd.Wait into a process exit code:
// git's own code, 128+signal when it was killed, 1 for any other failure.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return 1
}
