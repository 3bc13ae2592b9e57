// Package exe answers two questions for every part of gitserver that runs
// a program: where is this program (Self, Beside), and may a program at a
// given path be run at all (Check, CheckForSSHD).
//
// # Security
//
// Whoever can write a program that gitserver runs, or any directory above
// it, decides what runs: with a driver program, who gets in; with the
// binary sshd runs, everything. Check refuses a program that is not a
// regular executable file, or that (after symlinks), or any directory
// above it, is owned by someone other than root or the running user, or
// is writable by group or others. CheckForSSHD applies sshd's own, stricter
// rule for an AuthorizedKeysCommand: owned by root, all the way up.
package exe

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Self returns the absolute path of the running program, symlinks
// resolved: the path sshd's forced command and the hook scripts name.
func Self() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("exe: cannot find this program: %w", err)
	}
	if p, err = filepath.EvalSymlinks(p); err != nil {
		return "", fmt.Errorf("exe: cannot find this program: %w", err)
	}
	return p, nil
}

// Beside returns the path of the program name in Self's directory, where
// gitserver's helper programs are installed. It does not check that the
// file exists.
func Beside(name string) (string, error) {
	self, err := Self()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(self), name), nil
}

// UnsafeError is why a program may not run.
type UnsafeError struct {
	Path   string // the program as named
	Where  string // the file or directory at fault ("" when Path itself)
	Reason string
}

func (e *UnsafeError) Error() string {
	if e.Where == "" || e.Where == e.Path {
		return fmt.Sprintf("%s %s", e.Path, e.Reason)
	}
	return fmt.Sprintf("%s: %s %s", e.Path, e.Where, e.Reason)
}

// Check checks the program at path: absolute, a regular executable file,
// and it (after symlinks) and every directory above it owned by root or
// the running user and not writable by group or others. It returns nil or
// an *UnsafeError.
func Check(path string) error { return check(path, uint32(os.Geteuid())) }

// CheckForSSHD checks path as sshd checks an AuthorizedKeysCommand: as
// Check, but every file and directory must be owned by root.
func CheckForSSHD(path string) error { return check(path, 0) }

func check(path string, uid uint32) error {
	bad := func(where, reason string) error { return &UnsafeError{Path: path, Where: where, Reason: reason} }
	if !filepath.IsAbs(path) {
		return bad("", "is not an absolute path")
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return bad("", "cannot be resolved: "+err.Error())
	}
	fi, err := os.Stat(real)
	if err != nil {
		return bad("", "cannot be read: "+err.Error())
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return bad(real, "is not an executable file")
	}
	for p := real; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return bad(p, "cannot be read: "+err.Error())
		}
		if reason := unsafeMode(fi, uid); reason != "" {
			return bad(p, reason)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// unsafeMode says what is wrong with fi's owner or mode, or "".
func unsafeMode(fi fs.FileInfo, uid uint32) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && st.Uid != uid {
		if uid == 0 {
			return fmt.Sprintf("is owned by uid %d, not root", st.Uid)
		}
		return fmt.Sprintf("is owned by uid %d, not root or uid %d", st.Uid, uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Sprintf("has mode %04o: group or others can write it", fi.Mode().Perm())
	}
	return ""
}
