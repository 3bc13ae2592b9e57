package maintain

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// TestRunUnderPushes maintains a repository of 3,180 loose objects and
// ten packs while two clients push to it without pause (git push over
// the file path: receive-pack, its quarantine, the default unpack limit;
// every fourth push brings 120 files, so a pack of its own): every push
// succeeds and every branch ends at its last pushed commit; the loose
// objects from before are all packed and the packs rolled up; fsck, the
// multi-pack index and the commit-graph are clean. What the pushes
// brought meanwhile may be loose or in packs of their own: a forced run
// afterwards packs it all.
func TestRunUnderPushes(t *testing.T) {
	git := lookGit(t)
	repo, _ := bigRepo(t)
	before := looseObjects(t, repo)
	var started, ended atomic.Bool // maintenance's
	pushers := make([]*pusher, 2)
	var wg sync.WaitGroup
	ready := make(chan struct{}, len(pushers))
	for i := range pushers {
		p := newPusher(t, repo, i)
		pushers[i] = p
		wg.Go(func() { p.loop(ready, &started, &ended) })
	}
	for range pushers {
		<-ready // each has pushed once: all are pushing
	}
	started.Store(true)
	res, err := Run(context.Background(), "r", repo, testOptions(git))
	ended.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if want := []Task{GitAutoOff, PackLoose, Geometric, CommitGraph}; !slices.Equal(res.Tasks, want) {
		t.Fatalf("tasks %v, want %v", res.Tasks, want)
	}
	during, packsDuring := 0, 0
	for _, p := range pushers {
		if p.err != nil {
			t.Fatalf("a push during maintenance: %v", p.err)
		}
		during += p.during
		packsDuring += p.packsDuring
		if got := run(t, repo, "rev-parse", p.ref); got != p.last {
			t.Errorf("%s is at %s, was pushed to %s", p.ref, got, p.last)
		}
		if got := run(t, repo, "rev-list", "--count", "refs/heads/main.."+p.ref); got != strconv.Itoa(p.pushes) {
			t.Errorf("%s holds %s commits of its own, %d were pushed", p.ref, got, p.pushes)
		}
	}
	t.Logf("%d pushes during maintenance (%d of them packs), %+v -> %+v in %v", during, packsDuring, res.Before, res.After, res.Duration)
	if during == 0 {
		t.Fatal("no push overlapped maintenance")
	}
	still := 0
	for id := range looseObjects(t, repo) {
		if before[id] {
			still++
		}
	}
	if still > 0 {
		t.Errorf("%d of the %d loose objects from before are still loose", still, len(before))
	}
	if res.After.Packs > 2+packsDuring {
		t.Errorf("%d packs after maintenance (%d pushed during it)", res.After.Packs, packsDuring)
	}
	checkValid(t, repo, "")

	o := testOptions(git)
	o.Force = true
	if res, err = Run(context.Background(), "r", repo, o); err != nil {
		t.Fatal(err)
	}
	if res.After.Loose != 0 || res.After.Packs > 2 {
		t.Errorf("after a forced run: %+v", res.After)
	}
	if l := leftovers(t, repo); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
	checkValid(t, repo, "")
}

// pusher pushes commits on main to a branch of its own, one at a time.
type pusher struct {
	work, url, ref, dir string
	pushes, during      int
	packsDuring         int
	last                string // the commit last pushed
	err                 error
}

// newPusher clones repo without a checkout (the index is main's), so
// that each commit adds files to main's tree.
func newPusher(t *testing.T, repo string, i int) *pusher {
	work := filepath.Join(t.TempDir(), "w")
	run(t, filepath.Dir(work), "clone", "-q", "--no-checkout", repo, work)
	run(t, work, "reset", "-q")
	return &pusher{work: work, url: repo, ref: fmt.Sprintf("refs/heads/push%d", i), dir: fmt.Sprintf("push%d", i)}
}

// loop pushes until maintenance has ended (at least once; ready is told
// after the first push), counting the pushes that overlapped it.
func (p *pusher) loop(ready chan<- struct{}, started, ended *atomic.Bool) {
	for p.err == nil {
		files := 1
		if p.pushes%4 == 3 {
			files = 120
		}
		before := !ended.Load()
		p.err = p.push(files)
		if before && started.Load() {
			p.during++
			if files > 1 {
				p.packsDuring++
			}
		}
		if p.pushes == 1 {
			ready <- struct{}{}
		}
		if ended.Load() {
			return
		}
	}
	if p.pushes == 0 {
		ready <- struct{}{}
	}
}

func (p *pusher) push(files int) error {
	n := p.pushes
	args := []string{"add"}
	for j := range files {
		name := fmt.Sprintf("%s/%d-%d", p.dir, n, j)
		if err := os.MkdirAll(filepath.Join(p.work, p.dir), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(p.work, name), []byte(fmt.Sprintln(p.ref, n, j)), 0o644); err != nil {
			return err
		}
		args = append(args, name)
	}
	for _, a := range [][]string{args, {"commit", "-q", "-m", fmt.Sprint(p.ref, n)}, {"push", "-q", p.url, "HEAD:" + p.ref}} {
		if _, err := gitOut(p.work, a...); err != nil {
			return err
		}
	}
	head, err := gitOut(p.work, "rev-parse", "HEAD")
	p.last, p.pushes = head, n+1
	return err
}

// looseObjects lists the repository's loose objects by id.
func looseObjects(t *testing.T, repo string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	dirs, _ := filepath.Glob(filepath.Join(repo, "objects", "[0-9a-f][0-9a-f]"))
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			ids[filepath.Base(d)+e.Name()] = true
		}
	}
	return ids
}
