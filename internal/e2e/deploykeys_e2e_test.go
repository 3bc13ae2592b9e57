package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
)

const deployPolicy = lfsPolicy + `
[[rule]]
repos  = ["public/*"]
users  = ["@all"]
access = "read"
`

// deployScenario: a read key clones its repository and nothing else
// (not a public one, not another), cannot push, runs whoami only; a
// write key limited to refs/heads/deploy/* pushes there and nowhere
// else, never rewinds or deletes; a removed key is refused; the log
// names the deploy key.
func deployScenario(t *testing.T, h lfsHost, addKey func(pub, access string, refs ...string), removeKey func(pub string)) {
	alice, ro, rw := h.people["alice"], h.people["ro"], h.people["rw"]
	aw := filepath.Join(alice.home, "app")
	alice.mustGit(alice.home, "clone", "-q", h.url+"team/app.git", aw)
	writeFile(t, filepath.Join(aw, "a"), "a\n")
	alice.mustGit(aw, "add", "a")
	alice.mustGit(aw, "commit", "-q", "-m", "a")
	alice.mustGit(aw, "push", "-q", "origin", "HEAD:main")
	alice.mustGit(aw, "push", "-q", h.url+"public/lib.git", "HEAD:main")
	alice.mustGit(aw, "push", "-q", h.url+"team/other.git", "HEAD:main")

	addKey(h.pubs["ro"], "read")
	addKey(h.pubs["rw"], "write", "refs/heads/deploy/*")

	rw1 := filepath.Join(ro.home, "app")
	ro.mustGit(ro.home, "clone", "-q", h.url+"team/app.git", rw1)
	for _, repo := range []string{"public/lib", "team/other"} {
		if out, err := ro.git(ro.home, "clone", "-q", h.url+repo+".git", filepath.Join(ro.home, strings.ReplaceAll(repo, "/", "_"))); err == nil || !strings.Contains(out, "repository not found or access denied") {
			t.Fatalf("the read deploy key cloned %s: %v\n%s", repo, err, out)
		}
	}
	writeFile(t, filepath.Join(rw1, "b"), "b\n")
	ro.mustGit(rw1, "add", "b")
	ro.mustGit(rw1, "commit", "-q", "-m", "b")
	if out, err := ro.git(rw1, "push", "-q", "origin", "HEAD:refs/heads/deploy/x"); err == nil {
		t.Fatalf("the read deploy key pushed:\n%s", out)
	}
	if out, err := ro.ssh([]string{"-T"}, "whoami"); err != nil || !strings.Contains(out, "deploy key ro-ci") {
		t.Fatalf("whoami of a deploy key: %v\n%s", err, out)
	}
	if out, err := ro.ssh([]string{"-T"}, "info"); err == nil || !strings.Contains(out, "a deploy key can only run git and whoami") {
		t.Fatalf("info from a deploy key: %v\n%s", err, out)
	}

	ww := filepath.Join(rw.home, "app")
	rw.mustGit(rw.home, "clone", "-q", h.url+"team/app.git", ww)
	writeFile(t, filepath.Join(ww, "c"), "c\n")
	rw.mustGit(ww, "add", "c")
	rw.mustGit(ww, "commit", "-q", "-m", "c")
	rw.mustGit(ww, "push", "-q", "origin", "HEAD:refs/heads/deploy/x")
	if out, err := rw.git(ww, "push", "-q", "origin", "HEAD:main"); err == nil || !strings.Contains(out, "refs/heads/main") {
		t.Fatalf("the write deploy key pushed main: %v\n%s", err, out)
	}
	if out, err := rw.git(ww, "push", "-q", "origin", ":refs/heads/deploy/x"); err == nil {
		t.Fatalf("the write deploy key deleted a ref:\n%s", out)
	}
	if out, err := rw.git(ww, "push", "-q", h.url+"team/other.git", "HEAD:refs/heads/deploy/x"); err == nil {
		t.Fatalf("the write deploy key pushed to another repository:\n%s", out)
	}
	if out, err := rw.git(ww, "push", "-q", h.url+"team/new.git", "HEAD:refs/heads/deploy/x"); err == nil {
		t.Fatalf("the write deploy key created a repository:\n%s", out)
	}
	removeKey(h.pubs["ro"])
	if out, err := ro.git(rw1, "fetch", "-q", "origin"); err == nil {
		t.Fatalf("a removed deploy key fetched:\n%s", out)
	}
	if log := h.log(); !strings.Contains(log, "user=@deploy") || !strings.Contains(log, "rule=\"deploy key SHA256:") {
		t.Fatalf("the log does not name the deploy key:\n%s", lastLines(log, 20))
	}
}

func TestDeployKeys(t *testing.T) {
	t.Run("sshd", func(t *testing.T) {
		t.Parallel()
		s := newServer(t)
		writeFile(t, filepath.Join(s.dir, "policy.toml"), deployPolicy)
		h := lfsHost{url: "root@gitsrv:", people: map[string]*person{}, pubs: map[string]string{}, repos: s.repos,
			log: func() string { return readLog(s.data) }}
		for _, n := range []string{"alice", "ro", "rw"} {
			c := s.newClient(n, n == "alice")
			h.people[n], h.pubs[n] = &c.person, c.pub
		}
		for _, r := range []string{"team/app", "team/other", "public/lib"} {
			s.admin("", "repos", "create", r)
		}
		add := func(pub, access string, refs ...string) {
			title := map[string]string{"read": "ro-ci", "write": "rw-ci"}[access]
			args := []string{"deploy-keys", "add", "--repo", "team/app", "--access", access, "--title", title}
			for _, r := range refs {
				args = append(args, "--refs", r)
			}
			s.admin(pub+"\n", args...)
		}
		remove := func(pub string) {
			k, _ := sshkey.ParseLine(pub)
			s.admin("", "deploy-keys", "remove", k.Fingerprint)
		}
		deployScenario(t, h, add, remove)
		if out := s.admin("", "deploy-keys", "list"); !strings.Contains(out, "write\tteam/app\trefs refs/heads/deploy/*") {
			t.Fatalf("deploy-keys list:\n%s", out)
		}
	})
	t.Run("serve", func(t *testing.T) {
		t.Parallel()
		s := newServed(t, "")
		writeFile(t, filepath.Join(s.dir, "policy.toml"), deployPolicy)
		h := lfsHost{url: "git@gitsrv:", people: map[string]*person{}, pubs: map[string]string{}, repos: s.repos, log: s.log}
		for _, n := range []string{"alice", "ro", "rw"} {
			c := s.client(n, n == "alice")
			h.people[n], h.pubs[n] = &c.person, c.pub
		}
		for _, r := range []string{"team/app", "team/other", "public/lib"} {
			s.repo(r)
		}
		st := keys.Open(filepath.Join(s.data, "keys.db"), keys.Options{})
		add := func(pub, access string, refs ...string) {
			k, err := sshkey.ParseLine(pub)
			if err != nil {
				t.Fatal(err)
			}
			title := "rw-ci"
			if access == "read" {
				title = "ro-ci"
			}
			d := &keys.Deploy{Repos: []string{"team/app"}, Write: access == "write", Refs: refs}
			if _, err := st.Add([]keys.Record{{User: keys.DeployUser, Title: title, Key: k, Deploy: d}}); err != nil {
				t.Fatal(err)
			}
		}
		remove := func(pub string) {
			k, _ := sshkey.ParseLine(pub)
			if _, err := st.Remove(k.Fingerprint); err != nil {
				t.Fatal(err)
			}
		}
		s.start()
		deployScenario(t, h, add, remove)
	})
}
