package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFirstPushPointsHead: a repository whose HEAD names master, pushed
// only main, clones with main checked out and no warning; a repository
// created by that push does the same.
func TestFirstPushPointsHead(t *testing.T) {
	s := newServer(t)
	writeFile(t, filepath.Join(s.dir, "policy.toml"), "[[rule]]\nrepos = [\"users/{user}/**\"]\nusers = [\"@all\"]\naccess = \"create\"\n")
	alice := s.newClient("alice", true)
	s.admin("", "repos", "create", "--default-branch", "master", "users/alice/app")
	work := filepath.Join(alice.home, "src")
	alice.mustGit(alice.home, "init", "-q", "--initial-branch=main", work)
	writeFile(t, filepath.Join(work, "a.txt"), "a\n")
	alice.mustGit(work, "add", "a.txt")
	alice.mustGit(work, "commit", "-q", "-m", "a")
	for _, repo := range []string{"users/alice/app", "users/alice/new"} {
		alice.mustGit(work, "push", "-q", "root@gitsrv:"+repo+".git", "main")
		clone := filepath.Join(alice.home, strings.ReplaceAll(repo, "/", "_"))
		out := alice.mustGit(alice.home, "clone", "root@gitsrv:"+repo+".git", clone)
		if strings.Contains(out, "warning") {
			t.Errorf("clone of %s warned:\n%s", repo, out)
		}
		if _, err := os.Stat(filepath.Join(clone, "a.txt")); err != nil {
			t.Errorf("clone of %s checked out nothing: %v", repo, err)
		}
		if head := s.serverGit(repo, "symbolic-ref", "HEAD"); head != "refs/heads/main" {
			t.Errorf("%s HEAD = %q, want refs/heads/main", repo, head)
		}
	}
	log, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
	if !strings.Contains(string(log), "HEAD pointed at the first pushed branch") {
		t.Errorf("log lacks the HEAD change:\n%s", log)
	}
}
