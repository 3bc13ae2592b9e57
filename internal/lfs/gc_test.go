package lfs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func gitT(t *testing.T, dir string, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir, "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func pointer(oid string, size int) string {
	return fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", oid, size)
}

// TestGC stores four objects: one a branch's history points at (in an
// older commit), one only a tag points at, one that nothing points at and
// is old, one that nothing points at and is young. GC removes only the
// old unreferenced one, and a dry run removes nothing.
func TestGC(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git")
	}
	root := t.TempDir()
	repo := filepath.Join(root, "r.git")
	gitT(t, root, "", "init", "-q", "--bare", repo)
	objs := NewObjects(repo)
	var oids []string
	for i := range 4 {
		b := bytes.Repeat([]byte{byte('a' + i)}, 1000+i)
		oid := oidOf(b)
		if err := objs.Put(oid, int64(len(b)), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		oids = append(oids, oid)
	}
	work := filepath.Join(root, "w")
	gitT(t, root, "", "init", "-q", work)
	os.WriteFile(filepath.Join(work, "a.bin"), []byte(pointer(oids[0], 1000)), 0o644)
	gitT(t, work, "", "add", ".")
	gitT(t, work, "", "commit", "-qm", "a")
	os.WriteFile(filepath.Join(work, "a.bin"), []byte("no longer LFS\n"), 0o644)
	gitT(t, work, "", "commit", "-qam", "a is plain now")
	gitT(t, work, "", "checkout", "-q", "-b", "side", "HEAD~1")
	os.WriteFile(filepath.Join(work, "b.bin"), []byte(pointer(oids[1], 1001)), 0o644)
	gitT(t, work, "", "add", ".")
	gitT(t, work, "", "commit", "-qm", "b")
	gitT(t, work, "", "tag", "v1")
	gitT(t, work, "", "push", "-q", repo, "master", "refs/tags/v1")

	now := time.Now()
	old := now.Add(-8 * 24 * time.Hour)
	for _, oid := range oids[:3] {
		os.Chtimes(objs.Path(oid), old, old)
	}
	os.MkdirAll(objs.tmpDir(), 0o755)
	stale := filepath.Join(objs.tmpDir(), "dead-upload")
	os.WriteFile(stale, []byte("x"), 0o644)
	os.Chtimes(stale, old, old)
	opts := GCOptions{Git: git, Env: []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent"}, Grace: DefaultGrace, Now: now, DryRun: true}
	res, err := GC(context.Background(), repo, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Referenced != 2 || res.Removed != 1 || res.Young != 1 || res.Temps != 1 || res.RemovedBytes != 1002 {
		t.Fatalf("dry run: %+v", res)
	}
	if n, _, _ := Usage(repo); n != 4 {
		t.Fatalf("dry run removed objects: %d left", n)
	}
	opts.DryRun = false
	if res, err = GC(context.Background(), repo, opts); err != nil || res.Removed != 1 {
		t.Fatalf("GC = %+v, %v", res, err)
	}
	for i, oid := range oids {
		_, err := objs.Stat(oid)
		if gone := err != nil; gone != (i == 2) {
			t.Errorf("object %d: gone=%v", i, gone)
		}
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("stale upload file kept")
	}
	if _, err := GC(context.Background(), repo, GCOptions{Git: git, Grace: time.Minute, Now: now}); err == nil {
		t.Error("GC with a one-minute grace ran")
	}
	// A repository git cannot read is an error, and nothing is removed.
	os.WriteFile(filepath.Join(repo, "packed-refs"), []byte("garbage\n"), 0o644)
	os.RemoveAll(filepath.Join(repo, "objects"))
	if _, err := GC(context.Background(), repo, opts); err == nil {
		t.Error("GC of a broken repository succeeded")
	}
	if n, _, _ := Usage(repo); n != 3 {
		t.Errorf("GC of a broken repository removed objects: %d left", n)
	}
}
