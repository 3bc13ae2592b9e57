package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/shim"
)

// A test key; never use it for anything else.
const (
	testType = "ssh-ed25519"
	testB64  = "AAAAC3NzaC1lZDI1NTE5AAAAIAGRKgPSZQQ3u4mGRtJfRESU72NQIHQd8D8RVbN9eZVk"
)

// build builds the front and the full program into one new directory and
// returns it.
func build(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-trimpath", "-o", dir+"/", ".", "../gitserver-core")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// site writes a config for driver (file unless given), with extra lines
// at its end, and returns its path.
func site(t *testing.T, driver string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"repos", "data"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	policy := "[[rule]]\nrepos = [\"team/*\"]\nusers = [\"alice\"]\naccess = \"write\"\n"
	if err := os.WriteFile(filepath.Join(dir, "policy.toml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	body := "ssh_user = \"root\"\nrepos = \"repos\"\ndata_dir = \"data\"\npolicy = \"policy.toml\"\n"
	if driver != "" {
		body += "driver = \"" + driver + "\"\n[drivers." + driver + "]\ncommand = [\"/nonexistent/driver\"]\n"
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(body+strings.Join(extra, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func run(t *testing.T, bin string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runEnv(t, bin, stdin, nil, args...)
}

func runEnv(t *testing.T, bin string, stdin string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return o.String(), e.String(), code
}

// TestFrontAnswersAlone: with the file driver the front answers sshd
// itself, exactly as the full program does, and needs nothing beside it.
func TestFrontAnswersAlone(t *testing.T) {
	dir := build(t)
	cfg := site(t, "")
	core := filepath.Join(dir, setup.CoreName)
	if _, errOut, code := run(t, core, testType+" "+testB64+"\n", "--config", cfg, "keys", "add", "--user", "alice"); code != 0 {
		t.Fatalf("keys add: exit %d: %s", code, errOut)
	}
	alone := t.TempDir()
	data, err := os.ReadFile(filepath.Join(dir, "gitserver"))
	if err != nil {
		t.Fatal(err)
	}
	front := filepath.Join(alone, "gitserver")
	if err := os.WriteFile(front, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"root", testType, testB64},           // known key
		{"git", testType, testB64},            // another login
		{"root", "ssh-rsa", testB64},          // type not the key's
		{"root", testType, testB64[:40]},      // cut short
		{"root", testType, `AAAA";touch x;"`}, // not base64
	} {
		args := append([]string{"--config", cfg, "authorized-keys"}, args...)
		want, wantErr, wantCode := run(t, core, "", args...)
		got, gotErr, gotCode := run(t, front, "", args...)
		// The full program names the front beside it: the same program.
		got = strings.ReplaceAll(got, front, filepath.Join(dir, "gitserver"))
		if got != want || gotErr != wantErr || gotCode != wantCode {
			t.Errorf("%v: front gave %q %q exit %d; full program %q %q exit %d", args[3:], got, gotErr, gotCode, want, wantErr, wantCode)
		}
	}
	out, _, _ := run(t, front, "", "--config", cfg, "authorized-keys", "root", testType, testB64)
	if !strings.HasPrefix(out, `command="`+front+" --config ") || strings.Count(out, "\n") != 1 {
		t.Errorf("front's line = %q, want one line running %s", out, front)
	}

	// Anything else needs the full program, and says so.
	_, errOut, code := run(t, front, "", "--config", cfg, "keys", "list")
	if code == 0 || !strings.Contains(errOut, setup.CoreName) || !strings.Contains(errOut, "install") {
		t.Errorf("keys list without %s: exit %d, %q", setup.CoreName, code, errOut)
	}
	// The forced command, too: git runs, and so does the greeting.
	if _, errOut, code := run(t, core, "", "--config", cfg, "repos", "create", "team/app"); code != 0 {
		t.Fatalf("repos create: exit %d: %s", code, errOut)
	}
	shellArgs := []string{"--config", cfg, "shell", "--user", "alice", "--key", "SHA256:x"}
	for _, command := range []string{"git-upload-pack 'team/app.git'", "", "git-upload-pack 'other/app.git'", "rm -rf /"} {
		want, wantErr, wantCode := runEnv(t, core, "0000", []string{"SSH_ORIGINAL_COMMAND=" + command}, shellArgs...)
		got, gotErr, gotCode := runEnv(t, front, "0000", []string{"SSH_ORIGINAL_COMMAND=" + command}, shellArgs...)
		if got != want || gotErr != wantErr || gotCode != wantCode {
			t.Errorf("shell %q: front gave %q %q exit %d; full program %q %q exit %d", command, got, gotErr, gotCode, want, wantErr, wantCode)
		}
	}
	if out, _, code := runEnv(t, front, "0000", []string{"SSH_ORIGINAL_COMMAND=git-upload-pack 'team/app.git'"}, shellArgs...); code != 0 || !strings.HasSuffix(out, "0000") {
		t.Errorf("front's upload-pack: exit %d, %q", code, out)
	}
	// Built-in commands need the full program; the client is told only
	// the short message.
	_, errOut, code = runEnv(t, front, "", []string{"SSH_ORIGINAL_COMMAND=info"}, shellArgs...)
	if code == 0 || errOut != shim.MsgUnavailable+"\n" {
		t.Errorf("info without %s: exit %d, %q; want %q", setup.CoreName, code, errOut, shim.MsgUnavailable)
	}
	log, _ := os.ReadFile(filepath.Join(filepath.Dir(cfg), "data", "gitserver.log"))
	if !strings.Contains(string(log), "cannot start the full program") {
		t.Errorf("log lacks the reason:\n%s", log)
	}

	// The pre-receive hook: the same decisions, with no full program.
	repo := filepath.Join(filepath.Dir(cfg), "repos", "team", "app.git")
	first, second := twoCommits(t, repo)
	for _, tt := range []struct{ user, stdin string }{
		{"alice", first + " " + second + " refs/heads/main\n"}, // write: allowed
		{"alice", second + " " + first + " refs/heads/main\n"}, // rewind: refused
		{"bob", first + " " + second + " refs/heads/main\n"},   // no such user
		{"alice", "nonsense\n"},
	} {
		env := []string{"GIT_DIR=" + repo, "GITSERVER_USER=" + tt.user, "GITSERVER_REPO=team/app", "GITSERVER_KEY=SHA256:x"}
		hookArgs := []string{"--config", cfg, "hook", "pre-receive"}
		want, wantErr, wantCode := runEnv(t, core, tt.stdin, env, hookArgs...)
		got, gotErr, gotCode := runEnv(t, front, tt.stdin, env, hookArgs...)
		if got != want || gotErr != wantErr || gotCode != wantCode {
			t.Errorf("hook %s %q: front gave %q %q exit %d; full program %q %q exit %d", tt.user, tt.stdin, got, gotErr, gotCode, want, wantErr, wantCode)
		}
	}
}

// twoCommits puts two commits in the bare repository at repo, the first
// on main and the second, its child, on another ref, and returns them.
func twoCommits(t *testing.T, repo string) (first, second string) {
	t.Helper()
	work := t.TempDir()
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = work
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@x", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@x"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("commit", "-q", "--allow-empty", "-m", "first")
	git("push", "-q", repo, "HEAD:refs/heads/main")
	git("commit", "-q", "--allow-empty", "-m", "second")
	git("push", "-q", repo, "HEAD:refs/heads/next")
	return git("rev-parse", "HEAD~"), git("rev-parse", "HEAD")
}

// TestFrontStartsCore: other commands, and authorized-keys with a driver
// that sees the key itself, go to the full program.
func TestFrontStartsCore(t *testing.T) {
	dir := build(t)
	front := filepath.Join(dir, "gitserver")
	out, errOut, code := run(t, front, "", "--help")
	if code != 0 || !strings.Contains(out, "Usage: gitserver") {
		t.Fatalf("--help: exit %d, %q %q", code, out, errOut)
	}
	out, _, _ = run(t, front, "", "--config", site(t, ""), "sshd-config")
	if !strings.Contains(out, "AuthorizedKeysCommand "+front+" --config ") {
		t.Errorf("sshd-config does not name the front:\n%s", out)
	}

	// With the exec driver the front may not answer: without the full
	// program there is no answer.
	cfg := site(t, "exec")
	if err := os.Remove(filepath.Join(dir, setup.CoreName)); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = run(t, front, "", "--config", cfg, "authorized-keys", "root", testType, testB64)
	if code == 0 || out != "" || !strings.Contains(errOut, setup.CoreName) {
		t.Errorf("exec driver without %s: exit %d, %q %q", setup.CoreName, code, out, errOut)
	}
	// Nor with syslog, which the front does not link.
	out, errOut, code = run(t, front, "", "--config", site(t, "", "[log]", `file = "syslog"`), "authorized-keys", "root", testType, testB64)
	if code == 0 || out != "" || !strings.Contains(errOut, setup.CoreName) {
		t.Errorf("syslog without %s: exit %d, %q %q", setup.CoreName, code, out, errOut)
	}
	out, errOut, code = run(t, front, "", "--config", cfg, "shell", "--user", "alice", "--key", "SHA256:x")
	if code == 0 || out != "" || errOut != shim.MsgUnavailable+"\n" {
		t.Errorf("exec driver shell without %s: exit %d, %q %q", setup.CoreName, code, out, errOut)
	}
}

// TestFrontRefusesWritableCore: like sshd, the front does not run a
// program that others could have changed.
func TestFrontRefusesWritableCore(t *testing.T) {
	dir := build(t)
	if err := os.Chmod(filepath.Join(dir, setup.CoreName), 0o775); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, filepath.Join(dir, "gitserver"), "", "--help")
	if code == 0 || !strings.Contains(errOut, "refusing to run it") {
		t.Errorf("group-writable core: exit %d, %q", code, errOut)
	}
}

// TestFrontLinksLittle keeps the front small: what it links starts with
// every login (BenchmarkAuthorizedKeys in cmd/gitserver/cli).
func TestFrontLinksLittle(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps .: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		switch pkg {
		case "github.com/alecthomas/kong", "golang.org/x/crypto/ssh", "net", "log/syslog", "github.com/gitserver/gitserver/cmd/gitserver/cli", "github.com/gitserver/gitserver/keys/sshkey":
			t.Errorf("the front links %s; find the importer with: go list -deps -f '{{.ImportPath}} {{.Imports}}' ./cmd/gitserver | grep %s", pkg, pkg)
		}
	}
}
