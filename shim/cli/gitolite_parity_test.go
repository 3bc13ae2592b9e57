package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/internal/sshdtest"
)

// TestGitoliteParity asks the real gitolite (Debian's gitolite3, set up
// in a private HOME) and gitserver, after 'import gitolite' of the same
// gitolite.conf, the same access questions: every user × repository
// (existing, wild with a creator, missing) × permission and ref. Any
// disagreement fails the test with both answers, except the one
// difference the README documents (gitolite creates a missing wild
// repository on a fetch; gitserver only on a push).
func TestGitoliteParity(t *testing.T) {
	if _, err := exec.LookPath("gitolite"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("gitolite is not installed (apt-get install gitolite3): %v", err)
		}
		t.Skip("gitolite is not installed (apt-get install gitolite3)")
	}
	dir := t.TempDir()
	conf := "testdata/gitolite-parity/gitolite.conf"
	users := []string{"root", "alice", "bob", "carol", "dave", "eve"}
	keydir := filepath.Join(dir, "keydir")
	os.MkdirAll(keydir, 0o755)
	for _, u := range users {
		sshdtest.Keygen(t, filepath.Join(dir, "k-"+u))
		os.Rename(filepath.Join(dir, "k-"+u+".pub"), filepath.Join(keydir, u+".pub"))
	}
	gl := newGitolite(t, filepath.Join(dir, "gitolite"), filepath.Join(keydir, "root.pub"), conf)
	// Wild repositories, created by their users.
	gl.run(t, "alice", "create", "users/alice/p")
	gl.run(t, "bob", "create", "users/bob/q")

	gs := newGitserverFrom(t, filepath.Join(dir, "gitserver"), keydir, conf, gl.repos())
	repos := append(gl.repos(), "users/alice/new", "users/carol/new", "nothere")
	existing := map[string]bool{}
	for _, r := range gl.repos() {
		existing[r] = true
	}
	type query struct{ perm, ref string }
	var queries []query
	for _, q := range []string{"R any", "W any", "+ any", "C any",
		"W refs/heads/master", "W refs/heads/dev", "W refs/heads/feature", "+ refs/heads/master",
		"W refs/heads/release", "+ refs/heads/release", "W refs/tags/v1", "+ refs/tags/v1", "W refs/tags/x1",
		"W refs/heads/USER/x", "+ refs/heads/USER/x", "W refs/heads/alice/x"} {
		f := strings.Fields(q)
		queries = append(queries, query{f[0], f[1]})
	}
	var bad []string
	n, excused := 0, 0
	for _, u := range users {
		mayCreate := gl.access(t, repos, u, "^C", "any")
		for _, q := range queries {
			ref := strings.Replace(q.ref, "USER", u, 1)
			if q.perm == "C" && ref != "any" {
				continue
			}
			glPerm := q.perm
			if glPerm == "C" {
				glPerm = "^C" // gitolite's repository creation; its C is ref creation
			}
			glAllow := gl.access(t, repos, u, glPerm, ref)
			for _, r := range repos {
				if q.perm == "C" && existing[r] {
					continue // gitolite: "DENIED by existence"; nothing to create
				}
				n++
				gsAllow, why := gs.access(t, u, r, q.perm, ref)
				if glAllow[r] == gsAllow {
					continue
				}
				// The two documented differences, both on a missing wild
				// repository that the user may create: gitolite creates it on
				// a fetch, gitserver only on a push; and 'gitolite access'
				// answers a push before the creation (CREATOR rules match
				// nobody yet), while gitolite-shell creates the repository
				// first, as gitserver's push does.
				if q.perm == "R" && !existing[r] && glAllow[r] && strings.Contains(why, "a fetch finds nothing") ||
					(q.perm == "W" || q.perm == "+") && !existing[r] && mayCreate[r] && gsAllow && strings.Contains(why, "the push creates it") {
					excused++
					continue
				}
				bad = append(bad, fmt.Sprintf("%s %s %s %s: gitolite %v, gitserver %v (%s)", r, u, q.perm, ref, glAllow[r], gsAllow, why))
			}
		}
	}
	t.Logf("%d queries, %d of them the documented differences", n, excused)
	if n < 500 {
		t.Errorf("only %d queries asked", n)
	}
	if len(bad) > 0 {
		t.Errorf("%d of %d answers differ from gitolite's:\n%s\npolicy:\n%s", len(bad), n, strings.Join(bad, "\n"), gs.policy(t))
	}
}

// gitoliteSite is a real gitolite installed in a private HOME.
type gitoliteSite struct{ home string }

func newGitolite(t *testing.T, home, adminKey, conf string) *gitoliteSite {
	t.Helper()
	g := &gitoliteSite{home: home}
	os.MkdirAll(home, 0o755)
	g.run(t, "", "setup", "-pk", adminKey)
	body, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(home, ".gitolite/conf/gitolite.conf"), string(body))
	g.run(t, "", "compile")
	g.run(t, "", "trigger", "POST_COMPILE")
	return g
}

// run runs gitolite as user ("" for the admin's shell commands).
func (g *gitoliteSite) run(t *testing.T, user string, args ...string) string {
	t.Helper()
	out, err := g.cmd(user, "", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("gitolite %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (g *gitoliteSite) cmd(user, stdin string, args ...string) *exec.Cmd {
	c := exec.Command("gitolite", args...)
	c.Env = []string{"HOME=" + g.home, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1"}
	if user != "" {
		c.Env = append(c.Env, "GL_USER="+user)
	}
	c.Stdin = strings.NewReader(stdin)
	return c
}

// repos lists the repositories gitolite has on disk, sorted.
func (g *gitoliteSite) repos() []string {
	var out []string
	root := filepath.Join(g.home, "repositories")
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && strings.HasSuffix(p, ".git") {
			rel, _ := filepath.Rel(root, p)
			out = append(out, strings.TrimSuffix(rel, ".git"))
			return filepath.SkipDir
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// access asks gitolite about every repository at once ("gitolite access
// %" reads their names from stdin) and returns which are allowed. GL_USER
// is the user, as gitolite-shell sets it: a missing wild repository's
// CREATOR is the user who would create it.
func (g *gitoliteSite) access(t *testing.T, repos []string, user, perm, ref string) map[string]bool {
	t.Helper()
	c := g.cmd(user, strings.Join(repos, "\n")+"\n", "access", "%", user, perm, ref)
	var out bytes.Buffer
	c.Stdout = &out
	c.Run() // exits 1 when any is denied
	allow := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 {
			t.Fatalf("gitolite access printed %q", line)
		}
		allow[f[0]] = !strings.Contains(f[2], "DENIED")
	}
	if len(allow) != len(repos) {
		t.Fatalf("gitolite access answered for %d of %d repositories:\n%s", len(allow), len(repos), out.String())
	}
	return allow
}

// gitserverSite is a gitserver config whose policy 'import gitolite'
// wrote, with gitolite's repositories (and their creators).
type gitserverSite struct{ cfg string }

func newGitserverFrom(t *testing.T, dir, keydir, conf string, repos []string) *gitserverSite {
	t.Helper()
	g := &gitserverSite{cfg: filepath.Join(dir, "config.toml")}
	for _, d := range []string{"repos", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, g.cfg, fmt.Sprintf("ssh_user = %q\nrepos = \"repos\"\ndata_dir = \"data\"\npolicy = \"policy.toml\"\n", me.Username))
	g.must(t, "import", "gitolite", "--keydir", keydir, "--conf", conf, "--apply")
	for _, r := range repos {
		g.must(t, "repos", "create", r)
	}
	for r, creator := range map[string]string{"users/alice/p": "alice", "users/bob/q": "bob"} {
		repo := filepath.Join(dir, "repos", r+".git")
		if out, err := exec.Command("git", "config", "--file", filepath.Join(repo, "config"), "gitserver.creator", creator).CombinedOutput(); err != nil {
			t.Fatalf("git config: %v\n%s", err, out)
		}
	}
	return g
}

func (g *gitserverSite) run(args ...string) (int, string) {
	var out bytes.Buffer
	e := &env{strings.NewReader(""), &out, &out, func(string) string { return "" }, context.Background()}
	code := run(e, append([]string{"--config", g.cfg}, args...))
	return code, out.String()
}

func (g *gitserverSite) must(t *testing.T, args ...string) string {
	t.Helper()
	code, out := g.run(args...)
	if code != 0 {
		t.Fatalf("gitserver %v: exit %d\n%s", args, code, out)
	}
	return out
}

// access asks 'gitserver access' the question gitolite's perm and ref
// stand for: R a read, W and + a push (with --ref a ref update; + a
// rewind), C the creation of the repository.
func (g *gitserverSite) access(t *testing.T, user, repo, perm, ref string) (bool, string) {
	t.Helper()
	level := map[string]string{"R": "read", "W": "write", "+": "force", "C": "create"}[perm]
	args := []string{"access", user, repo, level}
	if ref != "any" {
		args = append(args, "--ref", ref)
	}
	code, out := g.run(args...)
	if code > 1 {
		t.Fatalf("gitserver %v: exit %d\n%s", args, code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return code == 0, strings.TrimSpace(lines[len(lines)-1])
}

func (g *gitserverSite) policy(t *testing.T) string {
	body, _ := os.ReadFile(filepath.Join(filepath.Dir(g.cfg), "policy.toml"))
	return string(body)
}
