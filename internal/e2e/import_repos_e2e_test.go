package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/internal/sshdtest"
)

// importConf is a gitolite.conf with gitolite's wild-repository example:
// anyone creates users/THEM/..., its creator may rewind, its WRITERS
// push and its READERS fetch, as gl-perms says.
const importConf = `repo gitolite-admin
    RW+     =   admin

repo users/CREATOR/..*
    C       =   @all
    RW+     =   CREATOR
    RW      =   WRITERS
    R       =   READERS
`

// TestImportGitoliteRepos sets up the real gitolite (Debian's gitolite3)
// in a private HOME, lets alice create a wild repository and give bob
// WRITERS and carol READERS with gitolite's own perms command, and puts a
// commit in it through gitolite. 'gitserver import gitolite --repos'
// then moves it under the repos root of a gitserver deployed for an
// unprivileged ssh user, and through the real sshd each user gets what
// gitolite gave them: alice clones and force-pushes, bob pushes but may
// not rewind, carol clones but may not push, dave (a key, no role) gets
// nothing.
func TestImportGitoliteRepos(t *testing.T) {
	sshdtest.Need(t)
	if _, err := exec.LookPath("gitolite"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and gitolite is not installed (apt-get install gitolite3): %v", err)
		}
		t.Skip("gitolite is not installed (apt-get install gitolite3)")
	}
	const user = "gitserver-import"
	s := deployForUser(t, user)

	// Everyone's key in a keydir, as gitolite-admin holds them.
	keydir := filepath.Join(s.dir, "keydir")
	if err := os.MkdirAll(keydir, 0o755); err != nil {
		t.Fatal(err)
	}
	people := map[string]*client{}
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		c := s.newClient(name, false)
		c.sshCfg = s.sshd.ClientConfig(t, c.home, filepath.Join(c.home, "id_ed25519"), user)
		writeFile(t, filepath.Join(keydir, name+".pub"), c.pub+"\n")
		people[name] = c
	}
	alice, bob, carol, dave := people["alice"], people["bob"], people["carol"], people["dave"]

	gl := setupGitolite(t, filepath.Join(s.dir, "gitolite"), importConf)
	gl.run(t, "alice", "create", "users/alice/p")
	gl.run(t, "alice", "perms", "users/alice/p", "+", "WRITERS", "bob")
	gl.run(t, "alice", "perms", "users/alice/p", "+", "READERS", "carol")
	gl.pushCommit(t, "users/alice/p")
	// As when gitolite ran as the ssh user: its update hook, if left in
	// the repository, would run under gitserver (and refuse every push).
	for _, d := range []string{"", ".gitolite", ".gitolite/hooks", ".gitolite/hooks/common"} {
		if err := os.Chmod(filepath.Join(gl.home, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(gl.home, ".gitolite/conf/gitolite.conf")
	glRepos := filepath.Join(gl.home, "repositories")

	// The dry run says what it would do and does nothing.
	args := []string{"import", "gitolite", "--keydir", keydir, "--conf", conf, "--repos", glRepos, "--force"}
	out := s.admin("", args...)
	for _, want := range []string{
		"# repository users/alice/p (" + glRepos + "/users/alice/p.git)\n#   set gitserver.creator = alice\n",
		"#   add gitserver.role = READERS carol\n#   add gitserver.role = WRITERS bob\n",
		"#   give it to the ssh user " + user + " (chown -R)\n#   move to " + s.repos + "/users/alice/p.git\n#   move gitolite's hooks/ to hooks.gitolite/\n",
		"# repository gitolite-admin (" + glRepos + "/gitolite-admin.git)\n#   not imported: gitolite's own config repository",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(s.repos, "users")); err == nil {
		t.Fatal("the dry run moved a repository")
	}
	out = s.admin("", append(args, "--apply")...)
	if !strings.Contains(out, "imported users/alice/p into "+s.repos+"/users/alice/p.git: creator alice, 2 role member(s), hooks/ moved to hooks.gitolite/\n") {
		t.Errorf("import --apply:\n%s", out)
	}
	dst := filepath.Join(s.repos, "users/alice/p.git")
	uid := lookupUID(t, user)
	for _, p := range []string{dst, filepath.Join(dst, "objects"), filepath.Join(dst, "config"), filepath.Join(s.repos, "users/alice")} {
		if got := fileUID(t, p); got != uid {
			t.Errorf("%s is owned by uid %d, want %s (%d)", p, got, user, uid)
		}
	}
	if _, err := os.Lstat(filepath.Join(dst, "hooks.gitolite/update")); err != nil {
		t.Errorf("gitolite's update hook not moved aside: %v", err)
	}

	url := user + "@gitsrv:users/alice/p.git"
	// alice, the creator: clone, rewrite, force-push (RW+ = CREATOR).
	aw := filepath.Join(alice.home, "p")
	alice.mustGit(alice.home, "clone", "-q", url, aw)
	if _, err := os.Stat(filepath.Join(aw, "README")); err != nil {
		t.Fatalf("alice's clone lacks the commit made under gitolite: %v", err)
	}
	alice.mustGit(aw, "commit", "-q", "--amend", "-m", "rewritten by alice")
	alice.mustGit(aw, "push", "-q", "-f", "origin", "HEAD:master")

	// bob, WRITERS: push, but no rewind.
	bw := filepath.Join(bob.home, "p")
	bob.mustGit(bob.home, "clone", "-q", url, bw)
	commit(t, bob, bw, "bob.txt")
	bob.mustGit(bw, "push", "-q", "origin", "HEAD:master")
	bob.mustGit(bw, "commit", "-q", "--amend", "-m", "rewritten by bob")
	if out, err := bob.git(bw, "push", "-q", "-f", "origin", "HEAD:master"); err == nil {
		t.Errorf("bob (WRITERS) force-pushed:\n%s", out)
	}

	// carol, READERS: clone, no push.
	cw := filepath.Join(carol.home, "p")
	carol.mustGit(carol.home, "clone", "-q", url, cw)
	if _, err := os.Stat(filepath.Join(cw, "bob.txt")); err != nil {
		t.Errorf("carol's clone lacks bob's push: %v", err)
	}
	commit(t, carol, cw, "carol.txt")
	if out, err := carol.git(cw, "push", "-q", "origin", "HEAD:master"); err == nil {
		t.Errorf("carol (READERS) pushed:\n%s", out)
	}

	// dave, no role: nothing, not even whether it exists.
	if out, err := dave.git(dave.home, "clone", "-q", url, filepath.Join(dave.home, "p")); err == nil || !strings.Contains(out, "repository not found or access denied") {
		t.Errorf("dave (no role) cloned: %v\n%s", err, out)
	}
}

// deployForUser installs gitserver for the system user name as the README
// says (init as root, sshd-config's block) and starts sshd.
func deployForUser(t *testing.T, name string) *server {
	t.Helper()
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil { // the ssh user reaches its home and the repos
			t.Fatal(err)
		}
	}
	ensureSystemUser(t, name, filepath.Join(base, "home"))
	s := &server{t: t, dir: base}
	s.bin = sshdtest.InstallBinary(t, buildBinary(t), "gitserver")
	s.cfg = filepath.Join(base, "etc/config.toml")
	s.repos, s.data = filepath.Join(base, "repos"), filepath.Join(base, "data")
	s.admin("", "init", "--ssh-user", name, "--repos", s.repos, "--data-dir", s.data)
	s.sshd = sshdtest.Start(t, "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"+s.admin("", "sshd-config"))
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
			t.Logf("gitserver log:\n%s\nsshd log:\n%s", log, s.sshd.Log())
		}
	})
	return s
}

// gitoliteHome is a real gitolite installed in a private HOME (as the
// gitolite parity test in shim/cli sets one up).
type gitoliteHome struct{ home string }

// setupGitolite runs gitolite setup in home with a throwaway admin key
// and installs conf as its gitolite.conf.
func setupGitolite(t *testing.T, home, conf string) *gitoliteHome {
	t.Helper()
	g := &gitoliteHome{home: home}
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	admin := filepath.Join(home, "admin")
	sshdtest.Keygen(t, admin)
	g.run(t, "", "setup", "-pk", admin+".pub")
	writeFile(t, filepath.Join(home, ".gitolite/conf/gitolite.conf"), conf)
	g.run(t, "", "compile")
	g.run(t, "", "trigger", "POST_COMPILE")
	return g
}

func (g *gitoliteHome) env(user string) []string {
	env := []string{"HOME=" + g.home, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=gitolite", "GIT_AUTHOR_EMAIL=gitolite@example.com",
		"GIT_COMMITTER_NAME=gitolite", "GIT_COMMITTER_EMAIL=gitolite@example.com"}
	if user != "" {
		env = append(env, "GL_USER="+user)
	}
	return env
}

// run runs gitolite as user ("" for the admin's shell commands).
func (g *gitoliteHome) run(t *testing.T, user string, args ...string) string {
	t.Helper()
	c := exec.Command("gitolite", args...)
	c.Env = g.env(user)
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("gitolite %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// pushCommit puts a commit with a README on master of repo, pushed to
// its directory with 'gitolite push' (which bypasses the access checks
// of gitolite's update hook, but runs it).
func (g *gitoliteHome) pushCommit(t *testing.T, repo string) {
	t.Helper()
	work := filepath.Join(g.home, "work")
	for _, args := range [][]string{{"git", "init", "-q", work}, {"git", "-C", work, "commit", "-q", "--allow-empty", "-m", "x"}} {
		c := exec.Command(args[0], args[1:]...)
		c.Env = g.env("")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	writeFile(t, filepath.Join(work, "README"), "made under gitolite\n")
	for _, args := range [][]string{
		{"git", "add", "README"},
		{"git", "commit", "-q", "-m", "README"},
		{"gitolite", "push", "-q", filepath.Join(g.home, "repositories", repo+".git"), "HEAD:refs/heads/master"},
	} {
		c := exec.Command(args[0], args[1:]...)
		c.Dir, c.Env = work, g.env("")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
}
