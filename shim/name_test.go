package shim

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

func TestCleanNameValid(t *testing.T) {
	long := strings.Repeat(strings.Repeat("a", 99)+"/", 2) + strings.Repeat("b", 55) // 255 bytes
	tests := []struct{ in, want string }{
		{"owner/repo.git", "owner/repo"},
		{"/owner/repo.git", "owner/repo"},
		{"owner/repo", "owner/repo"},
		{"/owner/repo", "owner/repo"},
		{"repo", "repo"},
		{"repo.git", "repo"},
		{"a/b/c.git", "a/b/c"},
		{"u@x/r+1.git", "u@x/r+1"},
		{"a-b_c.d", "a-b_c.d"},
		{"@team/x", "@team/x"},
		{"a.", "a."},
		{"a..b", "a..b"},
		{"a.gitx", "a.gitx"},
		{"git", "git"},
		{"x.GitHub", "x.GitHub"},
		{long, long},
		{"/" + long + ".git", long},
		{strings.Repeat("a/", MaxSegments-1) + "a", strings.Repeat("a/", MaxSegments-1) + "a"},
		{strings.Repeat("s", MaxSegmentLen), strings.Repeat("s", MaxSegmentLen)},
	}
	for _, tt := range tests {
		if got, err := CleanName(tt.in); err != nil || got != tt.want {
			t.Errorf("CleanName(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestCleanNameInvalid(t *testing.T) {
	tests := []string{
		"", "/", "//", ".git", "/.git", "..", ".", "../etc", "/../etc", "a/../b", "a/..", "a/./b",
		"./a", ".hidden", "a/.hidden", "a/.git", ".git/config", "-rf", "a/-x", "--help",
		"//a", "//a.git", "a//b", "a/", "a/.git/", "/a/", "a.git/hooks/x", "a.git/config",
		"x.git.git", "x.GIT", "a.Git/b", "a/b.gIt.git",
		`a\b`, `..\x`, "a b", "a\x00b", "a\nb", "a\rb", "a\tb", "a\x7fb", "~root/x", "a~1",
		"a:b", "c:/x", "a;b", "a'b", "a!b", "$(id)", "a*", "a%2f..", "é", "a/é", "a\u202eb",
		"\xff", strings.Repeat("a", 300), strings.Repeat("a", MaxSegmentLen+1),
		strings.Repeat(strings.Repeat("a", 99)+"/", 2) + strings.Repeat("b", 56),
		strings.Repeat("a/", MaxSegments) + "a",
	}
	for _, in := range tests {
		if got, err := CleanName(in); !errors.Is(err, ErrInvalidName) || got != "" {
			t.Errorf("CleanName(%q) = %q, %v; want ErrInvalidName", in, got, err)
		}
	}
}

// TestCleanNameErrorText checks that errors name the rule, not the input.
func TestCleanNameErrorText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "shim: invalid repository name: empty"},
		{"a/../secret", `shim: invalid repository name: segment 2: starts with "."`},
		{"a//b", "shim: invalid repository name: segment 2: empty (leading, trailing or double /)"},
		{"a.git/hooks", `shim: invalid repository name: segment 1: ends in ".git"`},
		{"ab\x1b[2J", "shim: invalid repository name: segment 1: character at byte 2 not allowed (use letters, digits and ._+@-)"},
	}
	for _, tt := range tests {
		if _, err := CleanName(tt.in); err == nil || err.Error() != tt.want {
			t.Errorf("CleanName(%q) error = %v; want %s", tt.in, err, tt.want)
		}
	}
}

func TestDirName(t *testing.T) {
	if got := DirName("owner/repo"); got != "owner/repo.git" {
		t.Errorf("DirName(%q) = %q, want %q", "owner/repo", got, "owner/repo.git")
	}
}

func FuzzCleanName(f *testing.F) {
	for _, s := range []string{
		"owner/repo.git", "/owner/repo.git", "owner/repo", "a/b/c.git", "u@x/r+1.git", "../etc",
		"a/../b", "//a", "a//b", "a/", ".git", "a.git/hooks/x", "x.git.git", `a\b`, "a\x00b", "é",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		name, err := CleanName(raw)
		if err != nil {
			if name != "" || !errors.Is(err, ErrInvalidName) {
				t.Fatalf("CleanName(%q) = %q, %v; want \"\", ErrInvalidName", raw, name, err)
			}
			if msg := err.Error(); len(msg) > 120 || strings.IndexFunc(msg, unicode.IsControl) >= 0 {
				t.Fatalf("CleanName(%q) error text unsafe: %q", raw, msg)
			}
			return
		}
		checkCanonical(t, raw, name)
		if again, err := CleanName(name); err != nil || again != name {
			t.Fatalf("CleanName(%q) = %q, %v; want %q (from %q)", name, again, err, name, raw)
		}
		if again, err := CleanName("/" + name + ".git"); err != nil || again != name {
			t.Fatalf("CleanName(%q) = %q, %v; want %q (from %q)", "/"+name+".git", again, err, name, raw)
		}
	})
}

// checkCanonical checks the invariants of a name CleanName accepted.
func checkCanonical(t *testing.T, raw, name string) {
	t.Helper()
	if name == "" || path.IsAbs(name) || path.Clean(name) != name || len(name) > MaxNameLen {
		t.Fatalf("CleanName(%q) = %q: not a clean relative name", raw, name)
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." || seg[0] == '.' || seg[0] == '-' || strings.HasSuffix(strings.ToLower(seg), ".git") {
			t.Fatalf("CleanName(%q) = %q: bad segment %q", raw, name, seg)
		}
	}
	for i := 0; i < len(name); i++ {
		if !nameChar(name[i]) && name[i] != '/' {
			t.Fatalf("CleanName(%q) = %q: byte %d not allowed", raw, name, i)
		}
	}
}

// repoTree makes a temp dir holding a repos root "repos" with a real
// repository "repos/a.git" and a directory "outside" next to the root.
func repoTree(t *testing.T) (top, root string) {
	t.Helper()
	top = t.TempDir()
	root = filepath.Join(top, "repos")
	for _, d := range []string{filepath.Join(root, "a.git"), filepath.Join(top, "outside"), filepath.Join(top, "repos-evil", "x.git")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return top, root
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// realTop resolves top itself, which may sit behind a symlink (macOS /tmp).
func realTop(t *testing.T, top string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(top)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestWithinAccepts(t *testing.T) {
	top, root := repoTree(t)
	rt := realTop(t, top)
	symlink(t, filepath.Join(root, "a.git"), filepath.Join(root, "alias.git"))
	symlink(t, "../a.git", filepath.Join(root, "o", "rel.git"))
	symlink(t, root, filepath.Join(top, "rootlink"))

	tests := []struct{ root, path, want string }{
		{root, filepath.Join(root, "a.git"), filepath.Join(rt, "repos", "a.git")},
		{root + "/", filepath.Join(root, "a.git") + "/", filepath.Join(rt, "repos", "a.git")},
		{root, filepath.Join(root, "alias.git"), filepath.Join(rt, "repos", "a.git")},
		{root, filepath.Join(root, "o", "rel.git"), filepath.Join(rt, "repos", "a.git")},
		{root, filepath.Join(root, "o", "..", "a.git"), filepath.Join(rt, "repos", "a.git")},
		{filepath.Join(top, "rootlink"), filepath.Join(top, "rootlink", "a.git"), filepath.Join(rt, "repos", "a.git")},
		{filepath.Join(top, "rootlink"), filepath.Join(root, "a.git"), filepath.Join(rt, "repos", "a.git")},
		{root, filepath.Join(top, "rootlink", "a.git"), filepath.Join(rt, "repos", "a.git")},
	}
	for _, tt := range tests {
		if got, err := Within(tt.root, tt.path); err != nil || got != tt.want {
			t.Errorf("Within(%q, %q) = %q, %v; want %q, nil", tt.root, tt.path, got, err, tt.want)
		}
	}
}

func TestWithinOutside(t *testing.T) {
	top, root := repoTree(t)
	symlink(t, filepath.Join(top, "outside"), filepath.Join(root, "evil.git"))
	symlink(t, "../../outside", filepath.Join(root, "o", "rel.git"))
	symlink(t, "/", filepath.Join(root, "slash.git"))
	symlink(t, ".", filepath.Join(root, "self.git"))
	symlink(t, root, filepath.Join(top, "rootlink"))

	tests := []struct{ root, path string }{
		{root, filepath.Join(root, "evil.git")},
		{root, filepath.Join(root, "o", "rel.git")},
		{root, filepath.Join(root, "slash.git")},
		{root, filepath.Join(root, "self.git")},
		{root, filepath.Join(root, "..", "outside")},
		{root, filepath.Join(top, "outside")},
		{root, filepath.Join(top, "repos-evil", "x.git")}, // shares the prefix "repos"
		{root, top},
		{root, "/"},
		{root, root},
		{root, root + "/"},
		{root, filepath.Join(root, "a.git", "..")},
		{root, filepath.Join(top, "rootlink")},
		{filepath.Join(top, "rootlink"), root},
	}
	for _, tt := range tests {
		if got, err := Within(tt.root, tt.path); !errors.Is(err, ErrOutsideRoot) || got != "" {
			t.Errorf("Within(%q, %q) = %q, %v; want ErrOutsideRoot", tt.root, tt.path, got, err)
		}
	}
}

func TestWithinNotExist(t *testing.T) {
	top, root := repoTree(t)
	symlink(t, filepath.Join(root, "gone.git"), filepath.Join(root, "dangling.git"))
	symlink(t, filepath.Join(top, "gone"), filepath.Join(root, "dangling-out.git"))

	tests := []struct{ root, path string }{
		{root, filepath.Join(root, "missing.git")},
		{root, filepath.Join(root, "x", "missing.git")},
		{root, filepath.Join(root, "dangling.git")},
		{root, filepath.Join(root, "dangling-out.git")},
		{filepath.Join(top, "no-root"), filepath.Join(root, "a.git")},
	}
	for _, tt := range tests {
		if got, err := Within(tt.root, tt.path); !errors.Is(err, fs.ErrNotExist) || got != "" {
			t.Errorf("Within(%q, %q) = %q, %v; want fs.ErrNotExist", tt.root, tt.path, got, err)
		}
	}
	if _, err := Within("", root); err == nil {
		t.Errorf("Within(%q, %q) = nil error; want an error", "", root)
	}
}
