package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// refsPolicy gives carol force on team/app, bob write on main, his own
// branches and v* tags, and everyone read.
const refsPolicy = `
[[rule]]
repos  = ["team/app"]
users  = ["carol"]
access = "force"

[[rule]]
repos  = ["team/app"]
users  = ["bob"]
refs   = ["main", "refs/tags/v*"]
access = "write"

[[rule]]
repos      = ["team/app"]
users      = ["bob"]
refs_regex = ["^refs/heads/{user}/.+$"]
access     = "force"

[[rule]]
repos  = ["**"]
users  = ["@all"]
access = "read"
`

// serverRepo runs git on the server's copy of a repository.
func (s *server) serverGit(repo string, args ...string) string {
	s.t.Helper()
	out, err := exec.Command("git", append([]string{"-C", filepath.Join(s.repos, repo+".git")}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("git %v in %s: %v\n%s", args, repo, err, out)
	}
	return strings.TrimSpace(string(out))
}

// pushRefs sets up team/app with a main branch pushed by carol, and a
// clone of it for bob.
func pushRefsSetup(t *testing.T) (s *server, bob, carol *client, work string) {
	s = newServer(t)
	writeFile(t, filepath.Join(s.dir, "policy.toml"), refsPolicy)
	bob, carol = s.newClient("bob", true), s.newClient("carol", true)
	s.admin("", "repos", "create", "team/app")
	cw := filepath.Join(carol.home, "first")
	carol.mustGit(carol.home, "clone", "-q", "root@gitsrv:team/app.git", cw)
	commit(t, carol, cw, "c.txt")
	carol.mustGit(cw, "push", "-q", "origin", "HEAD:refs/heads/main")
	s.serverGit("team/app", "symbolic-ref", "HEAD", "refs/heads/main")
	work = filepath.Join(bob.home, "app")
	bob.mustGit(bob.home, "clone", "-q", "root@gitsrv:team/app.git", work)
	return s, bob, carol, work
}

func commit(t *testing.T, c *client, work, file string) {
	t.Helper()
	writeFile(t, filepath.Join(work, file), file+"\n")
	c.mustGit(work, "add", file)
	c.mustGit(work, "commit", "-q", "-m", file)
}

func TestPushRefRules(t *testing.T) {
	s, bob, carol, work := pushRefsSetup(t)

	// Fast-forward of main: allowed by write.
	commit(t, bob, work, "b1.txt")
	bob.mustGit(work, "push", "-q", "origin", "main")

	// Non-fast-forward of main: refused, naming the ref and the reason.
	bob.mustGit(work, "commit", "-q", "--amend", "-m", "rewritten")
	out, err := bob.git(work, "push", "-q", "-f", "origin", "main")
	if err == nil || !strings.Contains(out, "refs/heads/main: non-fast-forward update refused (needs force access to this ref)") {
		t.Fatalf("bob's force push: err=%v\n%s", err, out)
	}
	// carol has force: the same rewrite goes through.
	cw := filepath.Join(carol.home, "app")
	carol.mustGit(carol.home, "clone", "-q", "root@gitsrv:team/app.git", cw)
	carol.mustGit(cw, "commit", "-q", "--amend", "-m", "carol rewrites")
	carol.mustGit(cw, "push", "-q", "-f", "origin", "main")
	bob.mustGit(work, "fetch", "-q")
	bob.mustGit(work, "reset", "-q", "--hard", "origin/main")

	// Branch rules: his own namespace with force (create, rewind, delete),
	// nothing else.
	bob.mustGit(work, "push", "-q", "origin", "main:bob/topic")
	bob.mustGit(work, "push", "-q", "-f", "origin", "main~1:bob/topic")
	bob.mustGit(work, "push", "-q", "origin", ":bob/topic")
	if out, err := bob.git(work, "push", "-q", "origin", "main:feature"); err == nil || !strings.Contains(out, "refs/heads/feature: create refused") {
		t.Fatalf("bob created feature: %v\n%s", err, out)
	}
	// Delete of main needs force.
	if out, err := bob.git(work, "push", "-q", "origin", ":main"); err == nil || !strings.Contains(out, "refs/heads/main: delete refused (needs force access to this ref)") {
		t.Fatalf("bob deleted main: %v\n%s", err, out)
	}
	// Tag rules: v* yes, others no; moving a tag is a rewind.
	bob.mustGit(work, "tag", "v1.0")
	bob.mustGit(work, "tag", "x1")
	bob.mustGit(work, "push", "-q", "origin", "v1.0")
	if out, err := bob.git(work, "push", "-q", "origin", "x1"); err == nil || !strings.Contains(out, "refs/tags/x1: create refused") {
		t.Fatalf("bob pushed tag x1: %v\n%s", err, out)
	}
	// One refused update refuses the whole push.
	before := s.serverGit("team/app", "rev-parse", "main")
	commit(t, bob, work, "b2.txt")
	out, err = bob.git(work, "push", "-q", "--atomic", "origin", "main", "main:other")
	if err == nil || !strings.Contains(out, "refs/heads/other: create refused") {
		t.Fatalf("mixed push: %v\n%s", err, out)
	}
	out, err = bob.git(work, "push", "-q", "origin", "main", "main:other")
	if err == nil {
		t.Fatalf("mixed push without --atomic succeeded:\n%s", out)
	}
	if got := s.serverGit("team/app", "rev-parse", "main"); got != before {
		t.Fatalf("main moved to %s although the push was refused", got)
	}
	log, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
	if !strings.Contains(string(log), `ref="refs/heads/main" op="non-fast-forward update" decision=deny`) {
		t.Errorf("log lacks the ref decision:\n%s", log)
	}
	// The request line of each push says what happened to its refs.
	for _, want := range []string{
		"command=git-receive-pack repo=team/app decision=allow refs=1 refused=0 ",
		"command=git-receive-pack repo=team/app decision=deny refs=1 refused=1 ",
		"command=git-receive-pack repo=team/app decision=deny refs=2 refused=1 ",
	} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log lacks the request line %q:\n%s", want, log)
		}
	}
}

// TestPushHooksNotBypassed checks that gitserver's hook runs whatever the
// repository's config says, that the repository's own hooks still run
// (chained), and that a client cannot change the receive-pack command.
func TestPushHooksNotBypassed(t *testing.T) {
	s, bob, _, work := pushRefsSetup(t)
	// An admin's mistake: the repository points its hooks elsewhere.
	empty := filepath.Join(s.dir, "nohooks")
	os.MkdirAll(empty, 0o755)
	s.serverGit("team/app", "config", "core.hooksPath", empty)
	// The repository's own hook must still run, after gitserver's check.
	mark := filepath.Join(s.dir, "own-hook-ran")
	hook := filepath.Join(s.repos, "team/app.git/hooks/post-receive")
	writeFile(t, hook, "#!/bin/sh\ncat > "+mark+"\n")
	os.Chmod(hook, 0o755)

	bob.mustGit(work, "commit", "-q", "--amend", "-m", "rewritten")
	if out, err := bob.git(work, "push", "-q", "-f", "origin", "HEAD:main"); err == nil || !strings.Contains(out, "non-fast-forward update refused") {
		t.Fatalf("force push with core.hooksPath in the repo config: err=%v\n%s", err, out)
	}
	// A client asking for another receive-pack command is refused.
	out, err := bob.git(work, "push", "-q", "-f", "--receive-pack=git -c core.hooksPath="+empty+" receive-pack", "origin", "HEAD:main")
	if err == nil || !strings.Contains(out, "gitserver: unsupported command") {
		t.Fatalf("push with --receive-pack: err=%v\n%s", err, out)
	}
	bob.mustGit(work, "reset", "-q", "--hard", "origin/main")
	commit(t, bob, work, "ok.txt")
	bob.mustGit(work, "push", "-q", "origin", "HEAD:main")
	got, err := os.ReadFile(mark)
	if err != nil || !strings.Contains(string(got), " refs/heads/main") {
		t.Fatalf("the repository's post-receive did not run with the ref updates: %v %q", err, got)
	}
	// gitserver's hooks directory is not writable by others.
	fi, err := os.Stat(filepath.Join(s.data, "hooks", "pre-receive"))
	if err != nil || fi.Mode().Perm()&0o022 != 0 {
		t.Fatalf("hooks/pre-receive: %v %v", err, fi)
	}
}

// TestPushSymrefsAndTags pushes through sshd to symbolic refs, decided on
// the ref git changes, and to tags, which write may create but only
// force may move or delete.
func TestPushSymrefsAndTags(t *testing.T) {
	s, bob, carol, work := pushRefsSetup(t)
	// An alias in bob's own namespace (where he has force) for a branch
	// he may not write, and one for main, which he may.
	s.serverGit("team/app", "branch", "release", "main")
	s.serverGit("team/app", "symbolic-ref", "refs/heads/bob/release", "refs/heads/release")
	s.serverGit("team/app", "symbolic-ref", "refs/heads/trunk", "refs/heads/main")
	commit(t, bob, work, "s1.txt")
	out, err := bob.git(work, "push", "-q", "origin", "HEAD:refs/heads/bob/release")
	if err == nil || !strings.Contains(out, "gitserver: refs/heads/bob/release -> refs/heads/release: update refused (needs write access to this ref)") {
		t.Fatalf("bob pushed through an alias of release: %v\n%s", err, out)
	}
	bob.mustGit(work, "push", "-q", "origin", "HEAD:refs/heads/trunk")
	if got, want := s.serverGit("team/app", "rev-parse", "main"), strings.TrimSpace(bob.mustGit(work, "rev-parse", "HEAD")); got != want {
		t.Fatalf("a push to trunk left main at %s, want %s", got, want)
	}

	// Tags: bob (write on v*) creates, but neither moves, even forward,
	// nor deletes; carol (force) does both.
	bob.mustGit(work, "tag", "v2.0")
	bob.mustGit(work, "push", "-q", "origin", "v2.0")
	commit(t, bob, work, "s2.txt")
	bob.mustGit(work, "push", "-q", "origin", "HEAD:main")
	bob.mustGit(work, "tag", "-f", "v2.0")
	for _, tt := range []struct{ args, msg string }{
		{"-f origin v2.0", "gitserver: refs/tags/v2.0: tag move refused (needs force access to this ref)"},
		{"origin :refs/tags/v2.0", "gitserver: refs/tags/v2.0: delete refused (needs force access to this ref)"},
	} {
		out, err := bob.git(work, append([]string{"push", "-q"}, strings.Fields(tt.args)...)...)
		if err == nil || !strings.Contains(out, tt.msg) {
			t.Errorf("bob: push %s: %v, want %q:\n%s", tt.args, err, tt.msg, out)
		}
	}
	cw := filepath.Join(carol.home, "tags")
	carol.mustGit(carol.home, "clone", "-q", "root@gitsrv:team/app.git", cw)
	carol.mustGit(cw, "tag", "-f", "v2.0", "main")
	carol.mustGit(cw, "push", "-q", "-f", "origin", "v2.0")
	if got, want := s.serverGit("team/app", "rev-parse", "v2.0"), s.serverGit("team/app", "rev-parse", "main"); got != want {
		t.Errorf("carol's tag move: v2.0 at %s, want %s", got, want)
	}
	carol.mustGit(cw, "push", "-q", "origin", ":refs/tags/v2.0")
	log, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
	for _, want := range []string{
		"ref=\"refs/heads/bob/release\" op=update decision=deny rule=" + filepath.Join(s.dir, "policy.toml") + ":19 target=\"refs/heads/release\"",
		"ref=\"refs/tags/v2.0\" op=\"tag move\" decision=deny",
	} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// TestPushRunsRepositoryHooks: with gitserver's hooks, a repository's own
// hooks still run, with git's arguments and input: pre-receive after the
// check (and not when it refuses), update, post-receive, post-update.
func TestPushRunsRepositoryHooks(t *testing.T) {
	s, bob, _, work := pushRefsSetup(t)
	// Without repository hooks (a fresh repository has only samples).
	commit(t, bob, work, "plain.txt")
	bob.mustGit(work, "push", "-q", "origin", "main")

	rec := filepath.Join(s.dir, "hooks-ran")
	for _, name := range []string{"pre-receive", "update", "post-receive", "post-update"} {
		hook := filepath.Join(s.repos, "team/app.git/hooks", name)
		writeFile(t, hook, "#!/bin/sh\n{ echo \""+name+" $*\"; cat; } >> "+rec+"\n")
		os.Chmod(hook, 0o755)
	}
	if out, err := bob.git(work, "push", "-q", "origin", "main:feature"); err == nil {
		t.Fatalf("bob created feature:\n%s", out)
	}
	if got, err := os.ReadFile(rec); err == nil {
		t.Fatalf("repository hooks ran for a push the check refused:\n%s", got)
	}
	old := strings.TrimSpace(bob.mustGit(work, "rev-parse", "HEAD"))
	commit(t, bob, work, "hooked.txt")
	next := strings.TrimSpace(bob.mustGit(work, "rev-parse", "HEAD"))
	bob.mustGit(work, "push", "-q", "origin", "main")
	got, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	line := old + " " + next + " refs/heads/main\n"
	want := "pre-receive \n" + line + "update refs/heads/main " + old + " " + next + "\n" + "post-receive \n" + line + "post-update refs/heads/main\n"
	if string(got) != want {
		t.Errorf("repository hooks ran as:\n%s\nwant:\n%s", got, want)
	}
}
