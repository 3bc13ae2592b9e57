package maintain

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// childEnv, set, makes the test binary a maintenance run of the
// repository it names (TestRunAfterKill kills it); childForce adds
// Force.
const (
	childEnv   = "GITSERVER_TEST_MAINTAIN_CHILD"
	childForce = "GITSERVER_TEST_MAINTAIN_FORCE"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(maintainChild(dir))
	}
	code := m.Run()
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

// maintainChild is what 'gitserver maintain' does for one repository:
// lower its priority, then Run.
func maintainChild(dir string) int {
	git, err := exec.LookPath("git")
	if err == nil {
		_ = Lower()
		o := testOptions(git)
		o.Force = os.Getenv(childForce) != ""
		_, err = Run(context.Background(), "r", dir, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// testOptions are the options 'gitserver maintain' runs with.
func testOptions(git string) Options {
	return Options{Git: git, Env: []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1"}, Timeout: time.Minute, Now: time.Now}
}

// fixture is a bare repository in need of maintenance, built once per
// test binary: ten pushes of a commit of 121 files each (over the unpack
// limit: ten packs), then one push of 60 commits of 50 files each
// received loose (3,180 loose objects, all reachable). The commits are
// made by git fast-import, for speed; the pushes are real (receive-pack
// over the file path), and transfer.unpackLimit is git's default
// afterwards.
var fixture struct {
	once sync.Once
	dir  string // holds r.git
	err  error
}

const fixtureLoose = 60 * (50 + 3) // blobs, the two trees and the commit of each

// bigRepo returns a fresh copy of the fixture and the refs it holds
// (git for-each-ref).
func bigRepo(t *testing.T) (repo, refs string) {
	t.Helper()
	fixture.once.Do(func() { fixture.dir, fixture.err = buildFixture() })
	if fixture.err != nil {
		t.Fatalf("building the fixture: %v", fixture.err)
	}
	repo = filepath.Join(t.TempDir(), "r.git")
	if out, err := exec.Command("cp", "-a", filepath.Join(fixture.dir, "r.git"), repo).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	return repo, run(t, repo, "for-each-ref")
}

func buildFixture() (string, error) {
	root, err := os.MkdirTemp("", "maintain-fixture-")
	if err != nil {
		return "", err
	}
	repo, work := filepath.Join(root, "r.git"), filepath.Join(root, "w")
	steps := [][]string{{"init", "-q", "--bare", repo}, {"init", "-q", "--bare", work}, {"-C", repo, "config", "transfer.unpackLimit", "100"}}
	for i := range 10 {
		steps = append(steps, []string{"-C", work, "push", "-q", repo, fmt.Sprintf("main~%d:refs/heads/main", 60+9-i)})
	}
	steps = append(steps, []string{"-C", repo, "config", "transfer.unpackLimit", "100000"},
		[]string{"-C", work, "push", "-q", repo, "main:refs/heads/main", "main~30:refs/heads/old"},
		[]string{"-C", repo, "config", "--unset", "transfer.unpackLimit"})
	for i, args := range steps {
		if i == 2 {
			if err := fastImport(work); err != nil {
				return root, err
			}
		}
		if _, err := gitOut(root, args...); err != nil {
			return root, err
		}
	}
	if st, err := Inspect(repo); err != nil || st.Loose != fixtureLoose || st.Packs != 10 {
		return root, fmt.Errorf("fixture holds %+v (%v), want %d loose objects and 10 packs", st, err, fixtureLoose)
	}
	return root, nil
}

// fastImport makes the fixture's 70 commits on main in the bare
// repository work: ten of 121 new files, then 60 of 50.
func fastImport(work string) error {
	var b strings.Builder
	data := func(s string) { fmt.Fprintf(&b, "data %d\n%s\n", len(s), s) }
	commit := func(n int, files func(add func(path, body string))) {
		fmt.Fprintf(&b, "commit refs/heads/main\ncommitter t <t@t> %d +0000\n", 1700000000+n)
		data(fmt.Sprint("commit ", n))
		files(func(path, body string) {
			fmt.Fprintf(&b, "M 100644 inline %s\n", path)
			data(body)
		})
	}
	for i := range 10 {
		commit(i, func(add func(string, string)) {
			for j := range 121 {
				add(fmt.Sprintf("p%d/f%d", i, j), fmt.Sprintf("pack %d file %d\n", i, j))
			}
		})
	}
	for i := range 60 {
		commit(10+i, func(add func(string, string)) {
			for j := range 50 {
				add(fmt.Sprintf("l%d/c%d-%d", i%6, i, j), fmt.Sprintf("loose %d file %d\n", i, j))
			}
		})
	}
	cmd := exec.Command("git", "--git-dir="+work, "fast-import", "--quiet")
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+work)
	cmd.Stdin = strings.NewReader(b.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git fast-import: %v\n%s", err, out)
	}
	return nil
}

// gitOut runs git in dir with the test's identity and no system or
// user config.
func gitOut(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir, "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("git %v: %v\n%s", args, err, out.String())
	}
	return strings.TrimSpace(out.String()), nil
}

// checkValid: fsck --full is clean, every object of every ref is
// readable, the refs are want (when not empty), and the multi-pack
// index and commit-graph, where there are any, verify.
func checkValid(t *testing.T, repo, want string) {
	t.Helper()
	run(t, repo, "fsck", "--full", "--no-progress")
	run(t, repo, "rev-list", "--all", "--objects", "--count")
	if want != "" {
		if got := run(t, repo, "for-each-ref"); got != want {
			t.Errorf("refs:\n%s\nwant\n%s", got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(repo, "objects", "pack", "multi-pack-index")); err == nil {
		run(t, repo, "multi-pack-index", "verify", "--no-progress")
	}
	graphs, _ := filepath.Glob(filepath.Join(repo, "objects", "info", "commit-graph*"))
	if len(graphs) > 0 {
		run(t, repo, "commit-graph", "verify", "--no-progress")
	}
}

// leftovers lists what an interrupted git leaves behind, relative to
// repo: lock files (but the maintenance lock, which is an flock's
// file), gc.pid, and temporary packs, indexes, bitmaps and graphs.
func leftovers(t *testing.T, repo string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(repo, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(repo, p)
		name := d.Name()
		switch {
		case rel == "gitserver-maintenance.lock":
		case strings.HasSuffix(name, ".lock"), name == "gc.pid",
			strings.HasPrefix(name, "tmp_"), strings.HasPrefix(name, ".tmp-"):
			found = append(found, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
