//go:build !linux

package cli

import "syscall"

// childAttr has no parent-death signal off Linux.
func childAttr() *syscall.SysProcAttr { return nil }
