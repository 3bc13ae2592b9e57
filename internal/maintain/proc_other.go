//go:build !linux

package maintain

import "syscall"

// Lower does nothing off Linux.
func Lower() error { return nil }

// procAttr runs git as uid and gid, when not below zero.
func procAttr(uid, gid int) *syscall.SysProcAttr {
	if uid < 0 || gid < 0 {
		return nil
	}
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
}
