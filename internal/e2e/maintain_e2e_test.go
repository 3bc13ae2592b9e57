package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/maintain"
)

// TestMaintainScheduledByServe: pushes leave loose objects; serve's
// schedule ([maintain] interval) maintains the repository without
// anyone asking, git's gc --auto is off for it, clones and fsck are
// fine; 'gitserver maintain' by hand then finds it in shape, and leaves
// at once while another run holds the host's lock.
func TestMaintainScheduledByServe(t *testing.T) {
	t.Parallel()
	s := newServed(t, "")
	writeFile(t, filepath.Join(s.dir, "policy.toml"), lfsPolicy)
	cfg, _ := os.ReadFile(s.cfg)
	writeFile(t, s.cfg, strings.Replace(string(cfg), "[listen]", "[maintain]\ninterval = \"1s\"\n[listen]", 1))
	alice := s.client("alice", true)
	repo := s.repo("team/assets")
	s.start()
	aw := filepath.Join(alice.home, "w")
	alice.mustGit(alice.home, "clone", "-q", "git@gitsrv:team/assets.git", aw)
	for i := range 2 {
		for j := range 60 {
			writeFile(t, filepath.Join(aw, fmt.Sprintf("f%d-%d", i, j)), fmt.Sprintf("%d %d\n", i, j))
		}
		alice.mustGit(aw, "add", ".")
		alice.mustGit(aw, "commit", "-q", "-m", fmt.Sprint(i))
		alice.mustGit(aw, "push", "-q", "origin", "HEAD:main")
	}
	deadline := time.Now().Add(60 * time.Second)
	packed := regexp.MustCompile(`gitserver\.maintain: maintained: repo=team/assets tasks="\[[^]]*loose-objects`)
	for !packed.MatchString(s.log()) {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not pack team/assets's loose objects:\n%s", lastLines(s.log(), 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
	st, err := maintain.Inspect(repo)
	if err != nil || st.Loose != 0 || st.Last.IsZero() {
		t.Fatalf("after maintenance: %+v %v", st, err)
	}
	if out, _ := exec.Command("git", "--git-dir="+repo, "config", "gc.auto").Output(); strings.TrimSpace(string(out)) != "0" {
		t.Errorf("gc.auto = %q, want 0", out)
	}
	if out, err := exec.Command("git", "--git-dir="+repo, "fsck", "--no-progress").CombinedOutput(); err != nil {
		t.Fatalf("fsck after maintenance: %v\n%s", err, out)
	}
	alice.mustGit(alice.home, "clone", "-q", "git@gitsrv:team/assets.git", filepath.Join(alice.home, "again"))

	gs := func(args ...string) (string, error) {
		out, err := exec.Command(buildBinary(t), append([]string{"--config", s.cfg}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := gs("maintain", "team/assets", "--dry-run", "--wait"); err != nil || !strings.Contains(out, "team/assets: in shape") {
		t.Fatalf("maintain --dry-run: %v\n%s", err, out)
	}
	f, err := os.OpenFile(filepath.Join(s.data, "maintain.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		time.Sleep(10 * time.Millisecond) // a scheduled run holds it now
	}
	if out, err := gs("maintain", "--all"); err == nil || !strings.Contains(out, "another 'gitserver maintain' runs on this host") {
		t.Fatalf("maintain while another holds the lock: %v\n%s", err, out)
	}
}
