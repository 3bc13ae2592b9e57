package hooks

import (
	"bufio"
	"compress/zlib"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The usual push adds a commit or a few on top of a branch: the new
// commit's first parent is the old one. That is a fast-forward, and
// isParent finds it in the new commit's loose object without starting
// git (merge-base is one more process in every push). Anything else,
// including a commit that is not loose (a big push keeps its pack), is
// left to merge-base.

// maxCommitHeader bounds what isParent reads of a commit: its tree and
// parent lines come first.
const maxCommitHeader = 64 << 10

// isParent reports whether commit old is a parent of commit new, as new's
// loose object says; false means not known. It reads the raw object, as
// merge-base does with GIT_NO_REPLACE_OBJECTS set. Objects are looked
// for where git looks during the push: GIT_OBJECT_DIRECTORY (the
// quarantine, which holds the pushed objects) and the absolute entries of
// GIT_ALTERNATE_OBJECT_DIRECTORIES (the repository's own objects), else
// GIT_DIR/objects. old and new are full hex object names.
func (p *Push) isParent(old, new string) bool {
	for _, dir := range p.objectDirs() {
		f, err := os.Open(filepath.Join(dir, new[:2], new[2:]))
		if err != nil {
			continue
		}
		defer f.Close()
		return hasParent(f, old)
	}
	return false
}

// objectDirs lists the object directories isParent looks in.
func (p *Push) objectDirs() []string {
	dir := p.getenv("GIT_OBJECT_DIRECTORY")
	if dir == "" {
		dir = filepath.Join(p.gitDir(), "objects")
	}
	dirs := []string{dir}
	for _, alt := range filepath.SplitList(p.getenv("GIT_ALTERNATE_OBJECT_DIRECTORIES")) {
		if filepath.IsAbs(alt) { // a quoted entry ("...") is left to git
			dirs = append(dirs, alt)
		}
	}
	return dirs
}

// hasParent reports whether the zlib-compressed loose object in r is a
// commit with a "parent old" line among its headers.
func hasParent(r io.Reader, old string) bool {
	z, err := zlib.NewReader(r)
	if err != nil {
		return false
	}
	defer z.Close()
	br := bufio.NewReader(io.LimitReader(z, maxCommitHeader))
	if hdr, err := br.ReadString(0); err != nil || !strings.HasPrefix(hdr, "commit ") {
		return false
	}
	want := "parent " + old + "\n"
	for {
		line, err := br.ReadString('\n')
		switch {
		case err != nil:
			return false
		case line == want:
			return true
		case !strings.HasPrefix(line, "tree ") && !strings.HasPrefix(line, "parent "):
			return false // past the parents: author, committer, ...
		}
	}
}
