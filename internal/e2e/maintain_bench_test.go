package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/internal/maintain"
)

// BenchmarkCloneAfterPushes clones (git clone --bare, through sshd and
// gitserver) a repository that received 1,000 small pushes, as the
// pushes left it and after 'gitserver maintain' (the tasks it decides
// for that state: loose objects packed, commit-graph), with, for
// comparison, a third copy after 'gitserver maintain --force-gc' (a full
// gc: one pack with a bitmap). The three copies are clones of one cached
// repository; the clones alternate.
//
//	go test ./internal/e2e -run XXX -bench CloneAfterPushes -benchtime 20x
func BenchmarkCloneAfterPushes(b *testing.B) {
	const pushes = 1000
	src := benchPushedRepo(b, pushes)
	s := newBenchServer(b)
	for _, name := range []string{"before", "maintained", "gc"} {
		copyRepo(b, src, s.repos, "team/"+name)
	}
	b.Log(strings.TrimSpace(s.admin("", "maintain", "team/maintained")))
	b.Log(strings.TrimSpace(s.admin("", "maintain", "--force-gc", "team/gc")))
	var runs []*cloneRun
	var vs []*variant
	for _, name := range []string{"before", "maintained", "gc"} {
		st, err := maintain.Inspect(filepath.Join(s.repos, "team", name+".git"))
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: %d loose objects, %d packs", name, st.Loose, st.Packs)
		r := newCloneRun(s.client, name)
		runs, vs = append(runs, r), append(vs, r.variant)
	}
	alternate(b, vs)
	for _, r := range runs { // the last clone of each is whole
		if out := s.client.mustGit(r.last(), "rev-list", "--count", "main"); strings.TrimSpace(out) != strconv.Itoa(pushes) {
			b.Fatalf("%s: the clone has %s commits, want %d", r.name, out, pushes)
		}
	}
}

// cloneRun is a variant that clones team/name.git into a fresh
// directory each time, the previous clone removed before the clock
// starts.
type cloneRun struct {
	*variant
	dir string
	n   int
}

func newCloneRun(c *client, name string) *cloneRun {
	r := &cloneRun{variant: &variant{name: name}, dir: filepath.Join(c.home, "clones-"+name)}
	r.cmd = func() *exec.Cmd {
		os.RemoveAll(r.last())
		r.n++
		cmd := exec.Command("git", "clone", "-q", "--bare", "root@gitsrv:team/"+name+".git", r.last())
		cmd.Env = c.env()
		return cmd
	}
	return r
}

func (r *cloneRun) last() string { return filepath.Join(r.dir, strconv.Itoa(r.n)) }

// benchPushedRepo returns a bare repository that received n pushes of
// one commit each, every commit changing two files (five or six new
// objects), pushed one at a time over the file path: receive-pack with
// git's unpack limit (100), so each push arrived as loose objects, and
// gc.auto=0, as in every repository gitserver maintains. The commits are
// made by git fast-import; the repository is built once and cached.
func benchPushedRepo(b *testing.B, n int) string {
	b.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(cache, "gitserver-bench", fmt.Sprintf("pushed-%d.git", n))
	if _, err := os.Stat(filepath.Join(dir, "pushed-ok")); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	work := filepath.Join(b.TempDir(), "w.git")
	git := func(stdin string, args ...string) string {
		c := exec.Command("git", args...)
		c.Stdin = strings.NewReader(stdin)
		c.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1")
		out, err := c.CombinedOutput()
		if err != nil {
			b.Fatalf("git %v: %v: %s", args, err, out)
		}
		return string(out)
	}
	git("", "init", "-q", "--bare", work)
	var stream strings.Builder
	for i := range n {
		fmt.Fprintf(&stream, "commit refs/heads/main\ncommitter b <b@x> %d +0000\ndata %d\n%s\n", 1700000000+i, len(strconv.Itoa(i)), strconv.Itoa(i))
		for _, f := range []string{fmt.Sprintf("d%d/f%d", i%10, i%97), fmt.Sprintf("d%d/g%d", i*7%10, i%13)} {
			body := fmt.Sprintf("push %d %s\n", i, f)
			fmt.Fprintf(&stream, "M 100644 inline %s\ndata %d\n%s\n", f, len(body), body)
		}
	}
	git(stream.String(), "--git-dir="+work, "fast-import", "--quiet")
	git("", "init", "-q", "--bare", dir)
	git("", "--git-dir="+dir, "config", "gc.auto", "0")
	for i, c := range strings.Fields(git("", "--git-dir="+work, "rev-list", "--reverse", "main")) {
		git("", "--git-dir="+work, "push", "-q", dir, c+":refs/heads/main")
		if i == 0 {
			git("", "--git-dir="+dir, "symbolic-ref", "HEAD", "refs/heads/main")
		}
	}
	if st, err := maintain.Inspect(dir); err != nil || st.Packs != 0 || st.Loose < 5*n {
		b.Fatalf("%d pushes left %+v (%v), want only loose objects", n, st, err)
	}
	writeFile(b, filepath.Join(dir, "pushed-ok"), "")
	return dir
}
