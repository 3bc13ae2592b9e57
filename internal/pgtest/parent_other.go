//go:build !linux

package pgtest

import "syscall"

// stopWithParent does nothing here: a server outlives a test binary that
// dies without stopping it.
func stopWithParent(*syscall.SysProcAttr) {}
