package maintain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	week := now.Add(-FullEvery - Spread)
	for _, tc := range []struct {
		name string
		st   State
		want []Task
	}{
		{"never maintained, in shape", State{Loose: 3, Packs: 1}, []Task{GitAutoOff}},
		{"many loose", State{Loose: 500, Packs: 1, Last: now.Add(-time.Hour)}, []Task{PackLoose, CommitGraph}},
		{"many packs", State{Loose: 0, Packs: 9, Last: now.Add(-time.Hour)}, []Task{Geometric, CommitGraph}},
		{"both, first time", State{Loose: 200, Packs: 5}, []Task{GitAutoOff, PackLoose, Geometric, CommitGraph}},
		{"in shape", State{Loose: 10, Packs: 2, Last: now.Add(-time.Hour)}, nil},
		{"loose refs", State{LooseRef: 80, Last: now.Add(-time.Hour)}, []Task{PackRefs}},
		{"full gc due", State{Loose: 1, Packs: 1, Last: now.Add(-time.Hour), LastFull: week}, []Task{FullGC, CommitGraph}},
		{"first full gc a week after the first run", State{Packs: 1, Last: week}, []Task{FullGC, CommitGraph}},
		{"full gc not yet due", State{Packs: 1, Last: now.Add(-time.Hour), LastFull: now.Add(-FullEvery + time.Hour)}, nil},
	} {
		if got := Decide("team/app", tc.st, now, false); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Decide = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := Decide("x", State{Last: now}, now, true); !slices.Equal(got, []Task{FullGC, CommitGraph}) {
		t.Errorf("forced: %v", got)
	}
	// The spread: not every repository falls due at the same moment.
	due := 0
	at := now.Add(-FullEvery - Spread/2)
	for i := range 100 {
		if len(Decide(fmt.Sprint("r", i), State{Packs: 1, Last: now, LastFull: at}, now, false)) > 0 {
			due++
		}
	}
	if due == 0 || due == 100 {
		t.Errorf("%d of 100 repositories due halfway through the spread", due)
	}
}

// lookGit is the git on PATH, which the tests maintain with.
func lookGit(t testing.TB) string {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	return git
}

func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir, "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestRun pushes many small and some large changes into a bare
// repository, then maintains it: fewer loose objects and packs, a
// commit-graph, git's gc --auto off, the same refs, fsck clean; a second
// run finds nothing to do.
func TestRun(t *testing.T) {
	git := lookGit(t)
	root := t.TempDir()
	repo := filepath.Join(root, "r.git")
	run(t, root, "init", "-q", "--bare", repo)
	run(t, repo, "config", "transfer.unpackLimit", "100")
	work := filepath.Join(root, "w")
	run(t, root, "init", "-q", work)
	for i := range 40 {
		n := 3
		if i%10 == 0 {
			n = 150 // over the unpack limit: a pack of its own
		}
		for j := range n {
			os.WriteFile(filepath.Join(work, fmt.Sprintf("f%d-%d", i, j)), []byte(fmt.Sprint(i, j)), 0o644)
		}
		run(t, work, "add", ".")
		run(t, work, "commit", "-qm", fmt.Sprint(i))
		run(t, work, "push", "-q", repo, "HEAD:refs/heads/main")
	}
	before, err := Inspect(repo)
	if err != nil || before.Loose < LooseLimit || before.Packs <= PackLimit {
		t.Fatalf("setup: %+v %v", before, err)
	}
	refs := run(t, repo, "for-each-ref")
	now := time.Now()
	o := Options{Git: git, Env: []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1"}, Timeout: time.Minute, Now: func() time.Time { return now }}
	res, err := Run(context.Background(), "r", repo, o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Tasks, []Task{GitAutoOff, PackLoose, Geometric, CommitGraph}) {
		t.Fatalf("tasks %v", res.Tasks)
	}
	if res.After.Loose != 0 || res.After.Packs > 2 {
		t.Fatalf("after: %+v (before %+v)", res.After, before)
	}
	if got := run(t, repo, "config", "gc.auto"); got != "0" {
		t.Errorf("gc.auto = %s", got)
	}
	if _, err := os.Stat(filepath.Join(repo, "objects", "info", "commit-graphs")); err != nil {
		t.Errorf("no commit-graph: %v", err)
	}
	if got := run(t, repo, "for-each-ref"); got != refs {
		t.Errorf("refs changed:\n%s\nwas\n%s", got, refs)
	}
	run(t, repo, "fsck", "--no-progress")
	if res, err := Run(context.Background(), "r", repo, o); err != nil || len(res.Tasks) != 0 {
		t.Fatalf("second run: %v %v", res.Tasks, err)
	}
	o.Force = true
	if res, err := Run(context.Background(), "r", repo, o); err != nil || !slices.Contains(res.Tasks, FullGC) {
		t.Fatalf("forced run: %v %v", res.Tasks, err)
	}
	if st, _ := Inspect(repo); st.LastFull.IsZero() {
		t.Error("full gc not recorded")
	}
	run(t, repo, "fsck", "--no-progress")

	unlock, err := lockRepo(repo, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), "r", repo, o); !errors.Is(err, ErrBusy) {
		t.Errorf("Run on a locked repository = %v, want ErrBusy", err)
	}
	unlock()
}

// TestRunAsOwner: maintenance run as root writes every file as the
// repository's owner, so that the ssh user can still push.
func TestRunAsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	git := lookGit(t)
	root := t.TempDir()
	os.Chmod(root, 0o755)
	os.Chmod(filepath.Dir(root), 0o755) // t.TempDir makes both 0700: the owner must reach the repository
	repo := filepath.Join(root, "r.git")
	run(t, root, "init", "-q", "--bare", repo)
	work := filepath.Join(root, "w")
	run(t, root, "init", "-q", work)
	for j := range 120 {
		os.WriteFile(filepath.Join(work, fmt.Sprint(j)), []byte(fmt.Sprint(j)), 0o644)
	}
	run(t, work, "add", ".")
	run(t, work, "commit", "-qm", "x")
	run(t, repo, "config", "receive.unpackLimit", "1000") // arrive loose
	run(t, work, "push", "-q", repo, "HEAD:refs/heads/main")
	const nobody = 65534
	if out, err := exec.Command("chown", "-R", fmt.Sprintf("%d:%d", nobody, nobody), repo).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	o := Options{Git: git, Env: []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1"}, Timeout: time.Minute, Now: time.Now}
	res, err := Run(context.Background(), "r", repo, o)
	if err != nil || !slices.Contains(res.Tasks, PackLoose) {
		t.Fatalf("Run: %v %v", res.Tasks, err)
	}
	filepath.WalkDir(repo, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if fi, _ := d.Info(); fi != nil {
			if st := fi.Sys().(*syscall.Stat_t); st.Uid != nobody {
				t.Errorf("%s is owned by uid %d, not the repository's owner", p, st.Uid)
			}
		}
		return nil
	})
}
