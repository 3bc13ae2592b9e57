package maintain

import "syscall"

// Lower makes this process (and the git it starts) nice 10 and idle
// for I/O, so that maintenance yields to serving.
func Lower() error {
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, 0, 10); err != nil {
		return err
	}
	const ioprioWhoProcess, ioprioClassIdle, ioprioClassShift = 1, 3, 13
	_, _, errno := syscall.Syscall(syscall.SYS_IOPRIO_SET, ioprioWhoProcess, 0, ioprioClassIdle<<ioprioClassShift)
	if errno != 0 {
		return errno
	}
	return nil
}

// procAttr runs git as uid and gid (when not below zero), and ends it
// if maintenance itself is killed: an interrupted repack leaves only
// temporary files, which the next run removes.
func procAttr(uid, gid int) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if uid >= 0 && gid >= 0 {
		a.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	return a
}
