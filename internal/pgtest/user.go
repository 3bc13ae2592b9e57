package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// serverUser returns the credential to run the server with: nil when not
// root, else User's, creating User if missing. Its supplementary groups
// are cleared, so the server does not keep root's.
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(User)
	if _, ok := err.(user.UnknownUserError); ok {
		out, uerr := exec.Command("useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
			"--shell", "/usr/sbin/nologin", "--user-group", User).CombinedOutput()
		if uerr != nil {
			return nil, fmt.Errorf("useradd %s (PostgreSQL refuses to run as root): %v\n%s", User, uerr, out)
		}
		u, err = user.Lookup(User)
	}
	if err != nil {
		return nil, fmt.Errorf("user %s: %v", User, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %s has uid %q and gid %q; want numbers", User, u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
