package cli

import "syscall"

// childAttr makes a serve child (maintenance, the webhook worker) die
// with serve, even when serve is killed with SIGKILL.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
