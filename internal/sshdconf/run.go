package sshdconf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// Run runs 'sshd -T' for a connection of user from localhost, with sshd's
// main config file (sshd's own default when file is ""). sshd -T needs
// root: it loads the host keys.
func Run(ctx context.Context, sshd, file, user string) (Effective, error) {
	if strings.ContainsAny(user, ", \t\n=") {
		return nil, fmt.Errorf("sshdconf: user %q cannot be passed to sshd -C", user)
	}
	args := []string{"-T", "-C", "user=" + user + ",host=localhost,addr=127.0.0.1"}
	if file != "" {
		args = append(args, "-f", file)
	}
	cmd := exec.CommandContext(ctx, sshd, args...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		return nil, fmt.Errorf("sshd -T: %v: %s", err, msg)
	}
	return Parse(out.Bytes())
}

// Running reports whether the sshd of this configuration runs: its
// PidFile names a live process. It is unknown (ok false) when the
// configuration has no PidFile.
func (e Effective) Running() (running, ok bool) {
	pidfile := e.first("pidfile")
	if pidfile == "" || pidfile == "none" {
		return false, false
	}
	data, err := os.ReadFile(pidfile)
	if err != nil {
		return false, true
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return false, true
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM), true
}
