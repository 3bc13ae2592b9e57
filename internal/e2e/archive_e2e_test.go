package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// archiveScenario: an archived repository still clones, fetches and
// archives, refuses pushes and LFS uploads with the stable message, and
// says so in info; unarchived it takes pushes again. The host's
// read-only switch refuses pushes with its message, not clones.
func archiveScenario(t *testing.T, h lfsHost) {
	alice := h.people["alice"]
	url := h.url + "team/assets.git"
	aw := filepath.Join(alice.home, "w")
	alice.mustGit(alice.home, "clone", "-q", url, aw)
	commit := func(name string) {
		writeFile(t, filepath.Join(aw, name), name+"\n")
		alice.mustGit(aw, "add", name)
		alice.mustGit(aw, "commit", "-q", "-m", name)
	}
	commit("one")
	alice.mustGit(aw, "push", "-q", "origin", "HEAD:main")

	h.admin("repos", "archive", "team/assets")
	commit("two")
	if out, err := alice.git(aw, "push", "-q", "origin", "HEAD:main"); err == nil || !strings.Contains(out, "gitserver: repository is archived (read-only)") {
		t.Fatalf("push to an archived repository: %v\n%s", err, out)
	}
	if out, err := alice.ssh([]string{"-T"}, "git-lfs-transfer team/assets.git upload"); err == nil || !strings.Contains(out, "gitserver: repository is archived (read-only)") {
		t.Fatalf("LFS upload to an archived repository: %v\n%s", err, out)
	}
	alice.mustGit(alice.home, "clone", "-q", url, filepath.Join(alice.home, "again"))
	alice.mustGit(aw, "fetch", "-q", "origin")
	if out, err := alice.git(aw, "archive", "--remote", url, "-o", filepath.Join(alice.home, "a.tar"), "main"); err != nil {
		t.Fatalf("git archive of an archived repository: %v\n%s", err, out)
	}
	if out, _ := alice.ssh([]string{"-T"}, "info"); !strings.Contains(out, "team/assets\tarchived (read-only)") {
		t.Fatalf("info does not show the archived repository:\n%s", out)
	}
	h.admin("repos", "unarchive", "team/assets")
	alice.mustGit(aw, "push", "-q", "origin", "HEAD:main")

	h.admin("read-only", "on", "disk migration until 14:00 UTC")
	commit("three")
	if out, err := alice.git(aw, "push", "-q", "origin", "HEAD:main"); err == nil || !strings.Contains(out, "gitserver: the server is read-only: disk migration until 14:00 UTC") {
		t.Fatalf("push in read-only mode: %v\n%s", err, out)
	}
	// A push that would create a repository is refused too; reads work.
	if out, err := alice.git(aw, "push", "-q", h.url+"users/alice/new.git", "HEAD:main"); err == nil || !strings.Contains(out, "read-only") {
		t.Fatalf("create-on-push in read-only mode: %v\n%s", err, out)
	}
	alice.mustGit(aw, "fetch", "-q", "origin")
	h.admin("read-only", "off")
	alice.mustGit(aw, "push", "-q", "origin", "HEAD:main")
	if log := h.log(); !strings.Contains(log, "is archived (read-only): writes refused") || !strings.Contains(log, "read-only: disk migration until 14:00 UTC: writes refused") {
		t.Fatalf("the refusals are not in the log:\n%s", lastLines(log, 20))
	}
}

const archivePolicy = `
[[rule]]
repos  = ["users/{user}/**"]
users  = ["@all"]
access = "create"
` + lfsPolicy

func TestArchivedAndReadOnly(t *testing.T) {
	t.Run("sshd", func(t *testing.T) {
		t.Parallel()
		s := newServer(t)
		writeFile(t, filepath.Join(s.dir, "policy.toml"), archivePolicy)
		h := lfsHost{url: "root@gitsrv:", people: map[string]*person{"alice": &s.newClient("alice", true).person}, repos: s.repos,
			admin: func(args ...string) string { return s.admin("", args...) },
			log: func() string {
				b, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
				return string(b)
			}}
		s.admin("", "repos", "create", "team/assets")
		archiveScenario(t, h)
	})
	t.Run("serve", func(t *testing.T) {
		t.Parallel()
		s := newServed(t, "")
		writeFile(t, filepath.Join(s.dir, "policy.toml"), archivePolicy)
		h := lfsHost{url: "git@gitsrv:", people: map[string]*person{"alice": &s.client("alice", true).person}, repos: s.repos, log: s.log,
			admin: func(args ...string) string {
				out, err := exec.Command(buildBinary(t), append([]string{"--config", s.cfg}, args...)...).CombinedOutput()
				if err != nil {
					t.Fatalf("gitserver %v: %v\n%s", args, err, out)
				}
				return string(out)
			}}
		s.repo("team/assets")
		s.start()
		archiveScenario(t, h)
	})
}
