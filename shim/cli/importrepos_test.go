package cli

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/internal/gitolite"
	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/shim"
)

// TestRenameNoReplace: a repository is never moved over an existing
// directory, not even an empty one (which os.Rename would replace).
func TestRenameNoReplace(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	for _, d := range []string{src, dst} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := setup.RenameNoReplace(src, dst); !errors.Is(err, fs.ErrExist) {
		t.Errorf("renameNoReplace onto an empty directory = %v, want fs.ErrExist", err)
	}
	if _, err := os.Stat(src); err != nil {
		t.Errorf("source gone after a refused rename: %v", err)
	}
	if err := setup.RenameNoReplace(src, filepath.Join(dir, "new")); err != nil {
		t.Errorf("renameNoReplace to a free name = %v", err)
	}
}

// TestWriteMeta: the metadata lands in the config in one rename, with
// the old file's other keys and mode, and a directory left by a killed
// run does not get in the way.
func TestWriteMeta(t *testing.T) {
	git, err := shim.LookGit()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "p.git")
	if out, err := exec.Command(git, "init", "-q", "--bare", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "config")
	if err := os.Chmod(cfg, 0o600); err != nil { // gitolite's UMASK 0077
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, metaTmp, "junk"), 0o700); err != nil {
		t.Fatal(err)
	}
	perms := []gitolite.Perm{{Role: "WRITERS", Member: "bob"}, {Role: "READERS", Member: "@devs"}}
	if err := writeMeta(context.Background(), git, dir, "alice", perms); err != nil {
		t.Fatalf("writeMeta = %v", err)
	}
	m, err := filedriver.ReadMeta(dir)
	if err != nil || m.Creator != "alice" || strings.Join(m.Roles["WRITERS"], " ") != "bob" || strings.Join(m.Roles["READERS"], " ") != "@devs" {
		t.Errorf("ReadMeta after writeMeta = %+v, %v", m, err)
	}
	out, err := exec.Command(git, "config", "--file", cfg, "core.bare").Output()
	if err != nil || strings.TrimSpace(string(out)) != "true" {
		t.Errorf("core.bare after writeMeta = %q, %v; the old keys are lost", out, err)
	}
	if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("config mode after writeMeta = %v, %v; want 0600 as before", fi.Mode(), err)
	}
	if _, err := os.Lstat(filepath.Join(dir, metaTmp)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s left behind: %v", metaTmp, err)
	}
	// A member gitserver would not read back is refused, the config kept.
	before, _ := os.ReadFile(cfg)
	if err := writeMeta(context.Background(), git, dir, "", []gitolite.Perm{{Role: "READERS", Member: "a b"}}); err == nil {
		t.Errorf("writeMeta with member %q = nil, want an error", "a b")
	}
	if after, _ := os.ReadFile(cfg); string(after) != string(before) {
		t.Errorf("config changed by a refused writeMeta:\n%s", after)
	}
}

// TestCheckPlacesOtherFilesystem: moving needs one filesystem; the error
// says so before anything is touched, with --adopt as the hint.
func TestCheckPlacesOtherFilesystem(t *testing.T) {
	root := t.TempDir()
	other, err := os.MkdirTemp("/dev/shm", "gl")
	if err != nil || devOf(other) == devOf(root) {
		t.Skip("no second filesystem (/dev/shm) to move from")
	}
	defer os.RemoveAll(other)
	p := &reposPlan{dir: other, root: root}
	var he *hintError
	if err := p.checkPlaces("config.toml"); !errors.As(err, &he) || !strings.Contains(he.msg, "on different filesystems") || !strings.Contains(he.hint, "use --adopt") {
		t.Errorf("checkPlaces across filesystems = %v", err)
	}
}
