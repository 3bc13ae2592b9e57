package hooks

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repo is a bare repository with a work tree to make commits in; git
// runs with a home of its own, so that no user or system config counts.
type repo struct {
	t    *testing.T
	dir  string // the bare repository
	work string
	env  []string
}

// newRepo makes a bare repository whose main branch holds one commit.
func newRepo(t *testing.T) *repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed: apt-get install git")
	}
	base := t.TempDir()
	r := &repo{t: t, dir: filepath.Join(base, "srv.git"), work: filepath.Join(base, "work")}
	r.env = append(os.Environ(), "HOME="+base, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	r.git(base, "init", "-q", "--bare", r.dir)
	r.git(base, "init", "-q", "-b", "main", r.work)
	r.commit("first")
	r.git(r.work, "push", "-q", r.dir, "main")
	return r
}

// git runs git in dir and returns its trimmed output.
func (r *repo) git(dir string, args ...string) string {
	r.t.Helper()
	out, err := r.try(dir, args...)
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return out
}

// try runs git in dir and returns its combined output and error.
func (r *repo) try(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, r.env
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// commit makes a commit in the work tree and returns its name.
func (r *repo) commit(msg string) string {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.work, "f"), []byte(msg+"\n"), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.git(r.work, "add", "f")
	r.git(r.work, "commit", "-q", "-m", msg)
	return r.git(r.work, "rev-parse", "HEAD")
}

// srv runs git in the bare repository.
func (r *repo) srv(args ...string) string {
	r.t.Helper()
	return r.git(r.dir, args...)
}

// writeHook writes an executable hook into the bare repository.
func (r *repo) writeHook(name, body string) {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, "hooks", name), []byte(body), 0o755); err != nil {
		r.t.Fatal(err)
	}
}
