package maintain

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestRunRemovesStale: what only maintenance writes goes whatever its
// age, but not while a git of a dead run still works in the repository
// (ErrBusy); a lock a push or an admin command may hold goes only once
// unwritten for staleAge; another host's gc.pid, a push's quarantine and
// the maintenance lock stay; a dry run removes nothing.
func TestRunRemovesStale(t *testing.T) {
	git := lookGit(t)
	root := t.TempDir()
	repo := filepath.Join(root, "r.git")
	run(t, root, "init", "-q", "--bare", repo)
	work := filepath.Join(root, "w")
	run(t, root, "init", "-q", work)
	os.WriteFile(filepath.Join(work, "f"), []byte("f\n"), 0o644)
	run(t, work, "add", "f")
	run(t, work, "commit", "-qm", "f")
	run(t, work, "push", "-q", repo, "HEAD:refs/heads/main")
	old := time.Now().Add(-staleAge - time.Minute)
	plant := func(rel, body string, at time.Time) {
		p := filepath.Join(repo, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
	host, _ := os.Hostname()
	maintOnly := []string{ // fresh: a killed run's a moment ago
		"objects/pack/multi-pack-index.lock", "objects/pack/tmp_pack_AbC123", "objects/pack/.tmp-99-pack-1234.pack",
		"objects/bitmap-ref-tips_Xy", "objects/info/commit-graphs/commit-graph-chain.lock", "objects/info/commit-graphs/tmp_graph_x",
	}
	for _, rel := range maintOnly {
		plant(rel, "", time.Now())
	}
	plant("gc.pid", "99 "+host, time.Now())
	oldShared := []string{"config.lock", "refs/heads/old.lock", "packed-refs.lock"}
	for _, rel := range oldShared {
		plant(rel, "", old)
	}
	kept := []string{"refs/heads/new.lock", "HEAD.lock", "objects/tmp_objdir-incoming-Q1/pack/tmp_pack_Z"}
	for _, rel := range kept {
		plant(rel, "", time.Now())
	}
	o := testOptions(git)

	o.DryRun = true
	if res, err := Run(context.Background(), "r", repo, o); err != nil || len(res.Removed) != 0 {
		t.Fatalf("dry run: removed %v, %v", res.Removed, err)
	}
	o.DryRun = false

	// A git still at work here, as a killed run's orphaned repack child
	// is: GIT_DIR from its parent.
	orphan := exec.Command(git, "cat-file", "--batch")
	orphan.Env = append(o.Env, "GIT_DIR="+repo)
	in, err := orphan.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "cat-file to start", func() bool { return gitRunsIn(repo) })
	if _, err := Run(context.Background(), "r", repo, o); !errors.Is(err, ErrBusy) {
		t.Errorf("Run with a git at work in the repository = %v, want ErrBusy", err)
	}
	in.Close()
	orphan.Wait()

	res, err := Run(context.Background(), "r", repo, o)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(res.Removed)
	want := slices.Sorted(slices.Values(append(append(maintOnly, "gc.pid"), oldShared...)))
	if !slices.Equal(res.Removed, want) {
		t.Errorf("removed %v, want %v", res.Removed, want)
	}
	for _, rel := range append(kept, "gitserver-maintenance.lock") {
		if _, err := os.Stat(filepath.Join(repo, rel)); err != nil {
			t.Errorf("%s: %v", rel, err)
		}
	}

	plant("gc.pid", "99 another-host", old)
	if res, err := Run(context.Background(), "r", repo, o); err != nil || len(res.Removed) != 0 {
		t.Errorf("another host's gc.pid: removed %v, %v", res.Removed, err)
	}
}

// waitFor polls cond until it holds, or fails the test after a while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
