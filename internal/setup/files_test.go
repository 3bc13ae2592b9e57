package setup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/internal/hooks"
	"github.com/gitserver/gitserver/shim"
	"github.com/hashicorp/go-hclog"
)

// TestCreateRepoRace: eight creators of one repository at once, as two
// frontends sharing a repos root may be: exactly one succeeds, the others
// get fs.ErrExist, and the repository that exists is whole and names the
// winner as its creator; no temporary directory is left.
func TestCreateRepoRace(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip("git is not installed")
	}
	root := t.TempDir()
	a := &App{Log: hclog.NewNullLogger(), Owner: Owner{UID: -1, GID: -1}}
	dir := filepath.Join(root, "team", "app.git")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = a.CreateRepo(git, dir, "main", fmt.Sprintf("user%d", i))
		}()
	}
	wg.Wait()
	winner := ""
	for i, err := range errs {
		switch {
		case err == nil && winner == "":
			winner = fmt.Sprintf("user%d", i)
		case err == nil:
			t.Errorf("both %s and user%d created it", winner, i)
		case !errors.Is(err, fs.ErrExist):
			t.Errorf("user%d: %v, want fs.ErrExist", i, err)
		}
	}
	meta, err := filedriver.ReadMeta(dir)
	if err != nil || meta.Creator != winner || winner == "" {
		t.Errorf("creator = %q (%v), want the winner %q", meta.Creator, err, winner)
	}
	if out, err := exec.Command(git, "--git-dir", dir, "fsck").CombinedOutput(); err != nil {
		t.Errorf("git fsck: %v\n%s", err, out)
	}
	left, _ := filepath.Glob(filepath.Join(root, "team", ".*"))
	if len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestHooksForWebhooks: a push runs the post-receive that queues webhook
// deliveries only while the policy in force has a webhook for its
// repository; an edit to the policy counts from the next push.
func TestHooksForWebhooks(t *testing.T) {
	base := t.TempDir()
	pol := filepath.Join(base, "policy.toml")
	write := func(s string) {
		t.Helper()
		// A new file: a new inode, whatever the clock's resolution.
		tmp := pol + ".new"
		if err := os.WriteFile(tmp, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, pol); err != nil {
			t.Fatal(err)
		}
	}
	write("[groups]\nadmins = [\"alice\"]\n")
	dir, err := hooks.Ensure(filepath.Join(base, "hooks"), "/usr/bin/gitserver", "/etc/gitserver/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(base, "team", "app.git")
	if err := os.MkdirAll(filepath.Join(repo, "hooks"), 0o755); err != nil {
		t.Fatal(err)
	}
	d := filedriver.New(shim.DriverConfig{DataDir: base, Repos: base, Policy: pol})
	a := &App{Log: hclog.NewNullLogger()}
	hooksFor := a.HooksFor(dir, d)
	want := func(name, sub string) {
		t.Helper()
		got, err := hooksFor(name, repo)
		if err != nil || got != filepath.Join(dir, sub) {
			t.Errorf("hooks for %s = %q, %v; want %q", name, got, err, filepath.Join(dir, sub))
		}
	}
	want("team/app", "pre-receive-only")
	write("[[webhook]]\nurl = \"https://ci.example.com/\"\nsecret_file = \"/etc/ci.secret\"\nrepos = [\"team/*\"]\n")
	want("team/app", "pre-and-post-receive")
	want("other/app", "pre-receive-only")
	write("[groups\n") // does not parse: the hook runs, and logs
	want("other/app", "pre-and-post-receive")
	// Not the file driver: no webhooks.
	if got, err := a.HooksFor(dir, nil)("team/app", repo); err != nil || got != filepath.Join(dir, "pre-receive-only") {
		t.Errorf("hooks without a driver = %q, %v", got, err)
	}
}
