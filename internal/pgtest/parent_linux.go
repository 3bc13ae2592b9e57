package pgtest

import "syscall"

// stopWithParent asks Linux to send postgres SIGQUIT (immediate shutdown)
// if the test binary dies without stopping it.
func stopWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGQUIT }
