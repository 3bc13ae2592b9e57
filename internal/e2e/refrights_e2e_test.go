package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// refRightsPolicy is gitolite's RW+CD, RW+ and RWD in a repository where
// creating and deleting refs are their own rights (as gitolite makes
// them once a repository has any RWC or RWD), decided gitolite's way.
const refRightsPolicy = `decide = "first-grant"

[[rule]]                      # RW+CD = carol
repos  = ["team/app"]
users  = ["carol"]
access = "force"
allow  = ["create-ref", "delete-ref"]

[[rule]]                      # RW+ = bob: no creating, no deleting here
repos  = ["team/app"]
users  = ["bob"]
access = "force"

[[rule]]                      # RWD feature/ = dave
repos      = ["team/app"]
users      = ["dave"]
refs_regex = ["refs/heads/feature/.*"]
access     = "write"
allow      = ["delete-ref"]

[[rule]]
repos  = ["**"]
users  = ["@all"]
access = "read"

[[option]]
repos           = ["team/app"]
explicit_rights = ["create-ref", "delete-ref"]
`

// TestPushExplicitRefRights pushes through sshd against ref rights that
// levels alone cannot say: bob may rewind but not create or delete a
// branch, dave may delete a feature branch but not create one.
func TestPushExplicitRefRights(t *testing.T) {
	pushExplicitRefRights(t, refRightsPolicy)
}

// TestPushExplicitRefRightsBigPolicy is the same among 400 rules of other
// repositories, 200 before the repository's rules and 200 after: every
// request but the first (which records the policy's outline) and every
// pre-receive hook parse only the rules that can match team/app, and
// must decide as the whole policy does.
func TestPushExplicitRefRightsBigPolicy(t *testing.T) {
	var other strings.Builder
	for i := range 200 {
		fmt.Fprintf(&other, "\n[[rule]]\nrepos  = [\"other/r%d\"]\nusers  = [\"bob\", \"dave\"]\naccess = \"write\"\n", i)
	}
	head, rules, _ := strings.Cut(refRightsPolicy, "\n\n")
	s := pushExplicitRefRights(t, head+"\n"+other.String()+"\n"+rules+other.String())
	records, _ := filepath.Glob(filepath.Join(s.data, "policy-*.outline"))
	if len(records) != 1 {
		t.Fatalf("outline records in the data directory: %q, want one", records)
	}
}

func pushExplicitRefRights(t *testing.T, policy string) *server {
	s := newServer(t)
	writeFile(t, filepath.Join(s.dir, "policy.toml"), policy)
	bob, carol, dave := s.newClient("bob", true), s.newClient("carol", true), s.newClient("dave", true)
	s.admin("", "repos", "create", "team/app")
	cw := filepath.Join(carol.home, "app")
	carol.mustGit(carol.home, "clone", "-q", "root@gitsrv:team/app.git", cw)
	commit(t, carol, cw, "c.txt")
	carol.mustGit(cw, "push", "-q", "origin", "HEAD:refs/heads/main", "HEAD:refs/heads/feature/a", "HEAD:refs/heads/feature/b")
	s.serverGit("team/app", "symbolic-ref", "HEAD", "refs/heads/main")

	bw := filepath.Join(bob.home, "app")
	bob.mustGit(bob.home, "clone", "-q", "root@gitsrv:team/app.git", bw)
	commit(t, bob, bw, "b.txt")
	bob.mustGit(bw, "push", "-q", "origin", "main")
	bob.mustGit(bw, "commit", "-q", "--amend", "-m", "bob rewrites")
	bob.mustGit(bw, "push", "-q", "-f", "origin", "main")
	// He has force, so the refusal names the right he lacks.
	if out, err := bob.git(bw, "push", "-q", "origin", "main:topic"); err == nil || !strings.Contains(out, "refs/heads/topic: create refused (needs create-ref access to this ref)") {
		t.Fatalf("bob created topic: %v\n%s", err, out)
	}
	if out, err := bob.git(bw, "push", "-q", "origin", ":feature/a"); err == nil || !strings.Contains(out, "refs/heads/feature/a: delete refused (needs delete-ref access to this ref)") {
		t.Fatalf("bob deleted feature/a: %v\n%s", err, out)
	}

	dw := filepath.Join(dave.home, "app")
	dave.mustGit(dave.home, "clone", "-q", "root@gitsrv:team/app.git", dw)
	dave.mustGit(dw, "push", "-q", "origin", ":feature/a")
	if out, err := dave.git(dw, "push", "-q", "origin", "origin/main:refs/heads/feature/c"); err == nil || !strings.Contains(out, "refs/heads/feature/c: create refused") {
		t.Fatalf("dave created feature/c: %v\n%s", err, out)
	}
	if out, err := dave.git(dw, "push", "-q", "origin", ":main"); err == nil || !strings.Contains(out, "refs/heads/main: delete refused") {
		t.Fatalf("dave deleted main: %v\n%s", err, out)
	}

	carol.mustGit(cw, "push", "-q", "origin", "HEAD:refs/heads/topic", ":feature/b")
	got := s.serverGit("team/app", "for-each-ref", "--format=%(refname)", "refs/heads")
	if want := "refs/heads/main\nrefs/heads/topic"; got != want {
		t.Errorf("branches = %q, want %q", got, want)
	}
	return s
}
