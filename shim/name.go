package shim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Bounds on repository names, in bytes and segments. They are far above
// what people use and keep every path built from a name well under
// PATH_MAX and NAME_MAX.
const (
	MaxNameLen    = 255 // canonical name, without "/" and ".git"
	MaxSegments   = 16  // "/"-separated segments
	MaxSegmentLen = 100 // one segment
)

// ErrInvalidName is wrapped by every error CleanName returns. The error
// text names the rule broken but never repeats the input, so it is safe to
// show to the client; the caller logs the raw input for the operator.
var ErrInvalidName = errors.New("shim: invalid repository name")

func invalidName(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidName}, args...)...)
}

// CleanName validates a repository name as sent by a client and returns
// its canonical form: no leading "/", no ".git" suffix, e.g. "owner/repo"
// for "owner/repo.git", "/owner/repo.git" and "owner/repo". It is the only
// place that turns client text into a name.
//
// It strips one leading "/" and one trailing ".git", then requires one to
// MaxSegments segments separated by single "/", each of letters, digits
// and ._+@- only, not starting with "." or "-" (so no "." or ".." and no
// option look-alikes), and not ending in ".git" in any case (so that no
// name reaches inside another repository's git directory). The result is
// relative and already clean in the sense of path.Clean. Names are case
// sensitive.
func CleanName(raw string) (string, error) {
	if len(raw) > len("/")+MaxNameLen+len(".git") {
		return "", invalidName("longer than %d bytes", MaxNameLen)
	}
	name := strings.TrimPrefix(raw, "/")
	name = strings.TrimSuffix(name, ".git")
	switch {
	case name == "":
		return "", invalidName("empty")
	case len(name) > MaxNameLen:
		return "", invalidName("longer than %d bytes", MaxNameLen)
	case strings.Count(name, "/") >= MaxSegments:
		return "", invalidName("more than %d segments", MaxSegments)
	}
	for i, seg := range strings.Split(name, "/") {
		if err := checkSegment(seg); err != nil {
			return "", invalidName("segment %d: %v", i+1, err)
		}
	}
	return name, nil
}

// checkSegment checks one "/"-separated segment of a name.
func checkSegment(seg string) error {
	switch {
	case seg == "":
		return errors.New("empty (leading, trailing or double /)")
	case len(seg) > MaxSegmentLen:
		return fmt.Errorf("longer than %d bytes", MaxSegmentLen)
	case seg[0] == '.':
		return errors.New(`starts with "."`)
	case seg[0] == '-':
		return errors.New(`starts with "-"`)
	case len(seg) >= 4 && strings.EqualFold(seg[len(seg)-4:], ".git"):
		return errors.New(`ends in ".git"`)
	}
	for i := 0; i < len(seg); i++ {
		if !nameChar(seg[i]) {
			return fmt.Errorf("character at byte %d not allowed (use letters, digits and ._+@-)", i)
		}
	}
	return nil
}

// nameChar reports whether c may appear in a name segment.
func nameChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c == '.' || c == '_' || c == '+' || c == '@' || c == '-'
}

// DirName returns the on-disk directory name of a canonical name, relative
// to the repository root: name + ".git".
func DirName(name string) string { return name + ".git" }

// ErrOutsideRoot is returned by Within when a path resolves outside the
// repository root, or to the root itself.
var ErrOutsideRoot = errors.New("shim: path resolves outside the repository root")

// Within returns the real path of path, with all symlinks resolved, and
// checks that it lies strictly inside the real path of root (also
// resolved). It returns an error wrapping fs.ErrNotExist when path (or a
// symlink on the way) does not exist, and one wrapping ErrOutsideRoot when
// it resolves outside root or to root itself. Its errors name paths: they
// are for the operator's log, not the client.
//
// The check holds at the time of the call: whoever can write inside root
// can still swap a directory for a symlink afterwards.
func Within(root, path string) (string, error) {
	if root == "" || path == "" {
		return "", errors.New("shim: empty root or path")
	}
	realRoot, err := realPath(root)
	if err != nil {
		return "", fmt.Errorf("shim: repository root: %w", err)
	}
	real, err := realPath(path)
	if err != nil {
		return "", fmt.Errorf("shim: repository: %w", err)
	}
	prefix := realRoot
	if !strings.HasSuffix(prefix, string(os.PathSeparator)) {
		prefix += string(os.PathSeparator)
	}
	if !strings.HasPrefix(real, prefix) || len(real) == len(prefix) {
		return "", fmt.Errorf("%w: %s is not inside %s", ErrOutsideRoot, real, realRoot)
	}
	return real, nil
}

// realPath returns the absolute path of p with all symlinks resolved.
func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}
