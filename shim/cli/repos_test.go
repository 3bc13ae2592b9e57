package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepoTargets: named repositories are all checked before any is
// returned, so that maintain and lfs gc work on none when one name is
// wrong; --all is every repository under the root.
func TestRepoTargets(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"team/app", "team/lib"} {
		if out, err := exec.Command("git", "init", "-q", "--bare", filepath.Join(root, name+".git")).CombinedOutput(); err != nil {
			t.Fatalf("git init: %v\n%s", err, out)
		}
	}
	got, err := repoTargets(root, false, []string{"team/lib.git", "/team/app"})
	if err != nil || len(got) != 2 || got[0].Name != "team/lib" || got[0].Path != filepath.Join(root, "team/lib.git") || got[1].Name != "team/app" {
		t.Fatalf("repoTargets(team/lib.git, /team/app) = %+v, %v", got, err)
	}
	for _, tt := range []struct{ name, want string }{
		{"team/gone", "no repository team/gone (" + filepath.Join(root, "team/gone.git") + "); see 'gitserver repos list'"},
		{"../etc", "invalid repository name"},
	} {
		got, err := repoTargets(root, false, []string{"team/app", tt.name})
		if err == nil || !strings.Contains(err.Error(), tt.want) || got != nil {
			t.Errorf("repoTargets(team/app, %s) = %+v, %v; want nothing and %q", tt.name, got, err, tt.want)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "team/empty.git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := repoTargets(root, false, []string{"team/empty"}); err == nil {
		t.Error("repoTargets(a directory without HEAD) succeeded")
	}
	all, err := repoTargets(root, true, nil)
	if err != nil || len(all) != 2 {
		t.Errorf("repoTargets(--all) = %+v, %v; want team/app and team/lib", all, err)
	}
}
