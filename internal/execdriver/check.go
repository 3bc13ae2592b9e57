package execdriver

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// UnsafeCommandError is why a driver program may not run: whoever can
// write to it, or to a directory above it, could replace it and decide
// who gets in.
type UnsafeCommandError struct {
	Path   string // the command as configured
	Where  string // the file or directory at fault ("" when Path itself)
	Reason string
}

func (e *UnsafeCommandError) Error() string {
	if e.Where == "" || e.Where == e.Path {
		return fmt.Sprintf("execdriver: command %s: %s", e.Path, e.Reason)
	}
	return fmt.Sprintf("execdriver: command %s: %s %s", e.Path, e.Where, e.Reason)
}

// CheckCommand checks the driver program at path: absolute, a regular
// executable file, and it (after symlinks) and every directory above it
// owned by root or the current user and not group or world writable.
func CheckCommand(path string) error {
	bad := func(where, reason string) error { return &UnsafeCommandError{Path: path, Where: where, Reason: reason} }
	if !filepath.IsAbs(path) {
		return bad("", "is not an absolute path")
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return bad("", err.Error())
	}
	fi, err := os.Stat(real)
	if err != nil {
		return bad("", err.Error())
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return bad(real, "is not an executable file")
	}
	uid := uint32(os.Geteuid())
	for p := real; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return bad(p, err.Error())
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
		return fmt.Sprintf("is owned by uid %d, not root or uid %d", st.Uid, uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Sprintf("has mode %v: group or others can write it", fi.Mode().Perm())
	}
	return ""
}
