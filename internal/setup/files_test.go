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
