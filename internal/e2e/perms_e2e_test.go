package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// permsPolicy lets everyone create under users/NAME/ and gives the
// repository's READERS and WRITERS, which its creator names with perms,
// read and write.
const permsPolicy = `
roles = ["READERS", "WRITERS"]

[[rule]]
repos  = ["users/{user}/*"]
users  = ["@all"]
access = "create"

[[rule]]
repos  = ["users/*/*"]
users  = ["role:WRITERS"]
access = "write"

[[rule]]
repos  = ["users/*/*"]
users  = ["role:READERS"]
access = "read"
`

// TestPermsBehindSSHD: alice creates users/alice/p by pushing and gives
// bob read, then write, then takes both away, with perms over SSH. bob
// holds one ControlMaster connection open from before the first grant
// and does everything after it over that connection: each grant and
// each revocation decides his next session. carol, who did not create
// the repository, can change nothing and learns nothing.
func TestPermsBehindSSHD(t *testing.T) {
	s := newServer(t)
	writeFile(t, filepath.Join(s.dir, "policy.toml"), permsPolicy)
	alice, bob, carol := s.newClient("alice", true), s.newClient("bob", true), s.newClient("carol", true)
	const url = "root@gitsrv:users/alice/p.git"

	work := filepath.Join(alice.home, "src")
	alice.mustGit(alice.home, "init", "-q", "--initial-branch=main", work)
	writeFile(t, filepath.Join(work, "a.txt"), "a\n")
	alice.mustGit(work, "add", "a.txt")
	alice.mustGit(work, "commit", "-q", "-m", "a")
	alice.mustGit(work, "push", "-q", url, "main")

	if out, err := bob.git(bob.home, "clone", "-q", url, filepath.Join(bob.home, "refused")); err == nil {
		t.Fatalf("bob cloned before any grant:\n%s", out)
	}
	mb := openMaster(t, bob.person)
	perms := func(p *client, args ...string) string {
		t.Helper()
		out, err := p.ssh(nil, append([]string{"perms", "users/alice/p"}, args...)...)
		if err != nil {
			t.Fatalf("%s: perms %v: %v\n%s", p.name, args, err, out)
		}
		return out
	}
	clone := filepath.Join(bob.home, "p")
	bobPush := func(file string) (string, error) {
		writeFile(t, filepath.Join(clone, file), file+"\n")
		bob.mustGit(clone, "add", file)
		bob.mustGit(clone, "commit", "-q", "-m", file)
		return mb.gitMux(clone, "push", "-q", "origin", "HEAD:main")
	}

	// READERS: bob clones, but may not push.
	if out := perms(alice, "+", "READERS", "bob"); out != "users/alice/p: + READERS bob\n" {
		t.Errorf("perms + READERS bob printed %q", out)
	}
	if out, err := mb.gitMux(bob.home, "clone", "-q", url, clone); err != nil {
		t.Fatalf("bob (READERS) clone: %v\n%s", err, out)
	}
	out, err := bobPush("b1.txt")
	refused(t, "bob (READERS) push", out, err)

	// WRITERS: bob pushes.
	perms(alice, "+", "WRITERS", "bob")
	if out := perms(alice, "-l"); out != "READERS bob\nWRITERS bob\n" {
		t.Errorf("perms -l = %q", out)
	}
	if out, err := mb.gitMux(clone, "push", "-q", "origin", "HEAD:main"); err != nil {
		t.Fatalf("bob (WRITERS) push: %v\n%s", err, out)
	}

	// Revoked WRITERS: the next push over the same connection is refused.
	perms(alice, "-", "WRITERS", "bob")
	out, err = bobPush("b2.txt")
	refused(t, "bob push after - WRITERS", out, err)
	if out, err := mb.gitMux(bob.home, "ls-remote", url); err != nil {
		t.Errorf("bob (still READERS) ls-remote: %v\n%s", err, out)
	}

	// Revoked READERS: bob can no longer read.
	perms(alice, "-", "READERS", "bob")
	out, err = mb.gitMux(bob.home, "clone", "-q", url, filepath.Join(bob.home, "again"))
	refused(t, "bob clone after - READERS", out, err)
	if out := perms(alice); out != "" {
		t.Errorf("perms after removing everyone = %q", out)
	}
	if head := s.serverGit("users/alice/p", "log", "--format=%an", "main"); head != "bob\nalice" {
		t.Errorf("main's authors = %q, want bob's one push over alice's", head)
	}

	// carol is not the creator: the same answer as a repository that
	// does not exist, and no change.
	for _, repo := range []string{"users/alice/p", "users/alice/none"} {
		out, err := carol.ssh(nil, "perms", repo, "+", "READERS", "carol")
		if err == nil || strings.TrimSpace(out) != "gitserver: repository does not exist, or you are not authorised" {
			t.Errorf("carol: perms %s + READERS carol: %v\n%s", repo, err, out)
		}
	}
	if out, err := carol.git(carol.home, "clone", "-q", url, filepath.Join(carol.home, "p")); err == nil {
		t.Errorf("carol cloned after her refused perms:\n%s", out)
	}

	// Client mistakes get short answers.
	for _, tt := range []struct{ args, want string }{
		{"+ READER bob", `gitserver: unknown role "READER"; roles here: READERS, WRITERS`},
		{"- READERS bob", "gitserver: bob is not in role READERS here"},
		{"+ READERS bob;id", "gitserver: invalid command; run 'help' for the commands and their arguments"},
	} {
		out, err := alice.ssh(nil, append([]string{"perms", "users/alice/p"}, strings.Fields(tt.args)...)...)
		if err == nil || strings.TrimSpace(out) != tt.want {
			t.Errorf("alice: perms users/alice/p %s: %v\n%s\nwant %q", tt.args, err, out, tt.want)
		}
	}
	log, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
	for _, want := range []string{`command="perms +" decision=allow`, `role="WRITERS" member="bob"`, `command="perms -" decision=deny`} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}
