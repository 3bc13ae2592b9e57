package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const createPolicy = `
[[rule]]
repos  = ["users/{user}/**"]
users  = ["@all"]
access = "create"

# gitolite's C = @all, RW+ = CREATOR, R = @all: while shared/X does not
# exist its creator would be whoever pushes, so anyone may create it;
# afterwards only its creator matches the first rule.
[[rule]]
repos  = ["shared/*"]
users  = ["{creator}"]
access = "create"

[[rule]]
repos  = ["shared/*"]
users  = ["@all"]
access = "read"

[[rule]]
repos  = ["team/*"]
users  = ["@all"]
access = "write"
`

// pushNew pushes a fresh commit to url, which need not exist.
func pushNew(t *testing.T, c *client, url, dir string) (string, error) {
	t.Helper()
	work := filepath.Join(c.home, dir)
	c.mustGit(c.home, "init", "-q", work)
	commit(t, c, work, "first.txt")
	return c.git(work, "push", "-q", url, "HEAD:refs/heads/main")
}

func TestCreateOnPush(t *testing.T) {
	s := newServer(t)
	writeFile(t, filepath.Join(s.dir, "policy.toml"), createPolicy)
	alice, bob := s.newClient("alice", true), s.newClient("bob", true)

	// Fetching a missing repository is still "not found", even with create.
	if out, err := alice.git(alice.home, "ls-remote", "root@gitsrv:users/alice/new.git"); err == nil || !strings.Contains(out, "repository not found or access denied") {
		t.Fatalf("ls-remote of a missing repo: %v\n%s", err, out)
	}
	// A push creates it in her namespace, with the creator recorded.
	if out, err := pushNew(t, alice, "root@gitsrv:users/alice/new.git", "a1"); err != nil {
		t.Fatalf("create on push: %v\n%s", err, out)
	}
	if got := s.serverGit("users/alice/new", "config", "gitserver.creator"); got != "alice" {
		t.Errorf("gitserver.creator = %q", got)
	}
	if got := s.serverGit("users/alice/new", "config", "receive.fsckObjects"); got != "true" {
		t.Errorf("receive.fsckObjects = %q: not created as repos create does", got)
	}
	if list := s.admin("", "repos", "list"); !strings.Contains(list, "users/alice/new\tcreator alice") {
		t.Errorf("repos list:\n%s", list)
	}
	// Not in someone else's namespace, nor where the policy gives only write.
	for _, url := range []string{"root@gitsrv:users/alice/bobs.git", "root@gitsrv:team/new.git"} {
		if out, err := pushNew(t, bob, url, "b-"+filepath.Base(url)); err == nil || !strings.Contains(out, "repository not found or access denied") {
			t.Fatalf("bob pushed to missing %s: %v\n%s", url, err, out)
		}
	}
	// {creator}: bob creates shared/tools and may force it; alice may not.
	if out, err := pushNew(t, bob, "root@gitsrv:shared/tools.git", "b2"); err != nil {
		t.Fatalf("bob creates shared/tools: %v\n%s", err, out)
	}
	work := filepath.Join(bob.home, "b2")
	bob.mustGit(work, "commit", "-q", "--amend", "-m", "amended")
	bob.mustGit(work, "push", "-q", "-f", "root@gitsrv:shared/tools.git", "HEAD:refs/heads/main")
	aw := filepath.Join(alice.home, "tools")
	alice.mustGit(alice.home, "clone", "-q", "root@gitsrv:shared/tools.git", aw)
	commit(t, alice, aw, "alice.txt")
	if out, err := alice.git(aw, "push", "-q", "origin", "HEAD:main"); err == nil || !strings.Contains(out, "repository not found or access denied") {
		t.Fatalf("alice pushed to bob's shared/tools: %v\n%s", err, out)
	}
}

// TestCreateOnPushRace: alice and bob push to the same missing shared/X
// at the same moment (as two frontends on one repos root may see it):
// one push creates it and lands, with its pusher as the only creator;
// the other either lands too (decided again as a push to the existing
// repository: here only a read, so refused) or fails cleanly, and the
// repository is whole.
func TestCreateOnPushRace(t *testing.T) {
	s := newServer(t)
	writeFile(t, filepath.Join(s.dir, "policy.toml"), createPolicy)
	alice, bob := s.newClient("alice", true), s.newClient("bob", true)
	for round := range 3 {
		url := fmt.Sprintf("root@gitsrv:shared/race%d.git", round)
		type result struct {
			out string
			err error
		}
		res := make(chan result, 2)
		var start sync.WaitGroup
		start.Add(1)
		for _, c := range []*client{alice, bob} {
			work := filepath.Join(c.home, fmt.Sprintf("race%d", round))
			c.mustGit(c.home, "init", "-q", work)
			commit(t, c, work, "first.txt")
			go func() {
				start.Wait()
				out, err := c.git(work, "push", "-q", url, "HEAD:refs/heads/main")
				res <- result{out, err}
			}()
		}
		start.Done()
		ok := 0
		for range 2 {
			r := <-res
			if r.err == nil {
				ok++
			} else if !strings.Contains(r.out, "repository not found or access denied") && !strings.Contains(r.out, "refused") && !strings.Contains(r.out, "rejected") {
				t.Errorf("round %d: a losing push failed uncleanly: %v\n%s", round, r.err, r.out)
			}
		}
		if ok != 1 {
			t.Errorf("round %d: %d pushes landed, want 1", round, ok)
		}
		creator := s.serverGit(fmt.Sprintf("shared/race%d", round), "config", "gitserver.creator")
		if creator != "alice" && creator != "bob" {
			t.Errorf("round %d: creator %q", round, creator)
		}
		s.serverGit(fmt.Sprintf("shared/race%d", round), "fsck")
		if got := s.serverGit(fmt.Sprintf("shared/race%d", round), "log", "-1", "--format=%an", "main"); got != creator {
			t.Errorf("round %d: main is %s's commit, the creator is %s", round, got, creator)
		}
	}
}
