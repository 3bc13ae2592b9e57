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

// TestSetHeadChangesWhatCloneChecksOut: 'repos set-head' as root, and
// set-head over SSH by an admin, change the branch a fresh clone checks
// out; a user without admin access is refused over SSH.
func TestSetHeadChangesWhatCloneChecksOut(t *testing.T) {
	s := newServer(t)
	writeFile(t, filepath.Join(s.dir, "policy.toml"), "[[rule]]\nrepos = [\"**\"]\nusers = [\"alice\"]\naccess = \"admin\"\n\n[[rule]]\nrepos = [\"**\"]\nusers = [\"bob\"]\naccess = \"write\"\n")
	alice, bob := s.newClient("alice", true), s.newClient("bob", true)
	s.admin("", "repos", "create", "--default-branch", "main", "team/app")
	work := filepath.Join(alice.home, "src")
	alice.mustGit(alice.home, "init", "-q", "--initial-branch=main", work)
	for _, b := range []string{"main", "dev", "stable"} {
		alice.mustGit(work, "checkout", "-q", "-B", b)
		writeFile(t, filepath.Join(work, b+".txt"), b+"\n")
		alice.mustGit(work, "add", b+".txt")
		alice.mustGit(work, "commit", "-q", "-m", b)
	}
	alice.mustGit(work, "push", "-q", "root@gitsrv:team/app.git", "main", "dev", "stable")
	checkedOut := func(want string) {
		t.Helper()
		clone := filepath.Join(alice.home, "clone-"+want)
		alice.mustGit(alice.home, "clone", "-q", "root@gitsrv:team/app.git", clone)
		if got := strings.TrimSpace(alice.mustGit(clone, "branch", "--show-current")); got != want {
			t.Errorf("clone checked out %q, want %q", got, want)
		}
	}
	checkedOut("main")
	s.admin("", "repos", "set-head", "team/app", "dev")
	checkedOut("dev")
	if out, err := alice.ssh(nil, "set-head", "team/app", "stable"); err != nil {
		t.Fatalf("alice: set-head over SSH: %v\n%s", err, out)
	}
	checkedOut("stable")
	if out, err := bob.ssh(nil, "set-head", "team/app", "main"); err == nil {
		t.Errorf("bob (write) set HEAD over SSH:\n%s", out)
	}
	if head := s.serverGit("team/app", "symbolic-ref", "HEAD"); head != "refs/heads/stable" {
		t.Errorf("HEAD = %q after bob's refused set-head, want refs/heads/stable", head)
	}
}
