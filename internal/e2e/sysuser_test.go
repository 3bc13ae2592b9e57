package e2e

import (
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
	"testing"
)

// ensureSystemUser creates a system user with a POSIX login shell and an
// unusable but unlocked password ("*": sshd without PAM refuses accounts
// whose password starts with "!"), as the README tells admins to. A user
// it created is removed, with its group, when the test ends.
func ensureSystemUser(t *testing.T, name, home string) {
	t.Helper()
	if _, err := user.Lookup(name); err != nil {
		if out, err := exec.Command("useradd", "--system", "--user-group", "--shell", "/bin/sh", "--home-dir", home, name).CombinedOutput(); err != nil {
			t.Fatalf("useradd: %v: %s", err, out)
		}
		t.Cleanup(func() {
			if out, err := exec.Command("userdel", "--force", name).CombinedOutput(); err != nil {
				t.Errorf("userdel %s: %v: %s", name, err, out)
			}
		})
	}
	if out, err := exec.Command("usermod", "--password", "*", "--home", home, name).CombinedOutput(); err != nil {
		t.Fatalf("usermod: %v: %s", err, out)
	}
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	uid := lookupUID(t, name)
	if err := os.Chown(home, uid, -1); err != nil {
		t.Fatal(err)
	}
}

func lookupUID(t *testing.T, name string) int {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	return uid
}

func fileUID(t *testing.T, path string) int {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}
