package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/internal/sshdtest"
)

// End-to-end tests of the exec driver: the seed-API Python example
// (contrib/python/examples/sqlite_driver.py) behind the real sshd.

// pythonDriver is the Python adapter and examples installed where the
// exec driver accepts them: a fresh root-owned 0755 directory outside
// /tmp (the driver's path must not be writable by others).
type pythonDriver struct {
	launcher string
	sqlite   string
}

func installPythonDriver(t testing.TB) pythonDriver {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set and /usr/bin/python3 is missing")
		}
		t.Skip("/usr/bin/python3 is missing")
	}
	dir := filepath.Dir(sshdtest.InstallBinary(t, "../../contrib/python/gitserver-driver", "gitserver-driver"))
	for _, sub := range []string{"gitserver_driver", "examples"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join("../../contrib/python", sub, "*.py"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, sub, filepath.Base(f)), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return pythonDriver{launcher: filepath.Join(dir, "gitserver-driver"), sqlite: filepath.Join(dir, "examples", "sqlite_driver.py")}
}

// usePython switches s to the exec driver serving the SQLite example
// with database db, and returns the database's admin command.
func (s *server) usePython(py pythonDriver) func(args ...string) {
	s.t.Helper()
	db := filepath.Join(s.dir, "users.sqlite3")
	writeFile(s.t, s.cfg, fmt.Sprintf(`ssh_user = "root"
repos = %q
data_dir = %q
policy = "policy.toml"
driver = "exec"

[drivers.exec]
command = [%q, "--module", %q, "--", %q, %q]
timeout = "5s"

[log]
level = "debug"
`, s.repos, s.data, py.launcher, py.sqlite, db, s.repos))
	return func(args ...string) {
		s.t.Helper()
		if out, err := exec.Command("/usr/bin/python3", append([]string{py.sqlite, db}, args...)...).CombinedOutput(); err != nil {
			s.t.Fatalf("sqlite_driver.py %v: %v\n%s", args, err, out)
		}
	}
}

// seedRepo puts one commit into the bare repository dir, as root.
func seedRepo(t testing.TB, dir string) {
	t.Helper()
	work := t.TempDir()
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"-c", "user.name=seed", "-c", "user.email=seed@example.com", "commit", "-q", "--allow-empty", "-m", "seed"},
		{"push", "-q", dir, "HEAD:refs/heads/main"},
	} {
		c := exec.Command("git", args...)
		c.Dir = work
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if out, err := exec.Command("git", "-C", dir, "symbolic-ref", "HEAD", "refs/heads/main").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
}

// TestPythonDriverCloneAllowedPushDenied: the Python authorize lets
// alice read team/app and refuses her push; a key the SQLite file does
// not know cannot log in.
func TestPythonDriverCloneAllowedPushDenied(t *testing.T) {
	s := newServer(t)
	py := installPythonDriver(t)
	admin := s.usePython(py)
	alice := s.newClient("alice", false)
	mallory := s.newClient("mallory", false)
	admin("add-key", "alice", alice.pub)
	admin("grant", "alice", "team/app", "read")
	s.admin("", "repos", "create", "team/app")
	seedRepo(t, filepath.Join(s.repos, "team/app.git"))

	work := filepath.Join(alice.home, "app")
	alice.mustGit(alice.home, "clone", "-q", "ssh://root@gitsrv/team/app", work)
	writeFile(t, filepath.Join(work, "a.txt"), "a\n")
	alice.mustGit(work, "add", "a.txt")
	alice.mustGit(work, "commit", "-q", "-m", "a")
	out, err := alice.git(work, "push", "-q", "origin", "HEAD")
	if err == nil {
		t.Fatalf("push allowed; the Python driver grants only read:\n%s", out)
	}
	if !strings.Contains(out, "gitserver: repository not found or access denied") {
		t.Errorf("push refusal:\n%s", out)
	}
	if out, err := mallory.git(mallory.home, "ls-remote", "root@gitsrv:team/app.git"); err == nil || !strings.Contains(out, "Permission denied") {
		t.Errorf("unknown key: %v\n%s", err, out)
	}
	log, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
	for _, want := range []string{
		"user=alice command=git-upload-pack repo=team/app decision=allow rule=sqlite_driver.authorize",
		"user=alice decision=deny error=\"gitserver: repository not found or access denied: denied by driver\"",
		"command=git-receive-pack repo=team/app rule=sqlite_driver.authorize",
	} {
		if !bytes.Contains(log, []byte(want)) {
			t.Errorf("operator log lacks %q:\n%s", want, log)
		}
	}
}

// TestCheckRefusesWritableDriver: 'gitserver check' reports an exec
// driver that others could replace, with the fix.
func TestCheckRefusesWritableDriver(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open") // others may write here
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o777)
	drv := filepath.Join(open, "driver")
	writeFile(t, drv, "#!/bin/sh\n")
	os.Chmod(drv, 0o755)
	cfg := filepath.Join(dir, "config.toml")
	writeFile(t, cfg, fmt.Sprintf("repos = %q\ndata_dir = %q\ndriver = \"exec\"\n[drivers.exec]\ncommand = [%q]\n", dir, dir, drv))
	var out, errb bytes.Buffer
	cmd := exec.Command(buildBinary(t), "--config", cfg, "check")
	cmd.Stdout, cmd.Stderr = &out, &errb
	var ee *exec.ExitError
	if err := cmd.Run(); !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("check: %v, want exit 1\n%s%s", err, out.String(), errb.String())
	}
	for _, want := range []string{"execdriver: command: " + drv + ": " + open + " has mode 0777: group or others can write it", "hint: install the driver as root"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
}
