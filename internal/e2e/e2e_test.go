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

// These tests drive the real OpenSSH sshd and the real git client through
// the built gitserver binary. They run as root (CI does); with CI set they
// fail rather than skip when that is not possible.

// buildBinary is the gitserver binary under test (sshdtest.Gitserver).
func buildBinary(t testing.TB) string { return sshdtest.Gitserver(t) }

const e2ePolicy = `
[groups]
admins = ["alice"]

[[rule]]
repos  = ["**"]
users  = ["@admins"]
access = "write"

[[rule]]
repos  = ["users/{user}/**"]
users  = ["@all"]
access = "write"

[[rule]]
repos  = ["public/*"]
users  = ["@all"]
access = "read"
`

// server is gitserver behind a real sshd, with users whose keys are in
// the store.
type server struct {
	t     testing.TB
	bin   string
	dir   string
	cfg   string
	repos string
	data  string
	sshd  *sshdtest.Server
}

func newServer(t *testing.T) *server {
	t.Helper()
	s := newServerFiles(t)
	// Two variables sshd must never get to git, to show that they do not.
	s.sshd = sshdtest.Start(t, s.sshdConfig("GIT_PROTOCOL GITSERVER_TEST_EVIL LD_PRELOAD"))
	return s
}

// sshdConfig is the sshd_config body that puts s's gitserver behind sshd
// for the login root, accepting the client variables acceptEnv.
func (s *server) sshdConfig(acceptEnv string) string {
	return fmt.Sprintf(`AuthorizedKeysFile none
AuthorizedKeysCommand %s --config %s authorized-keys %%u %%t %%k
AuthorizedKeysCommandUser root
PermitRootLogin forced-commands-only
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitTTY no
DisableForwarding yes
AcceptEnv %s
`, s.bin, s.cfg, acceptEnv)
}

// newServerFiles installs the binary and writes a config (ssh user root),
// the e2e policy and empty repos and data directories; the caller starts
// sshd. The gitserver log is shown when the test fails.
func newServerFiles(t testing.TB) *server {
	t.Helper()
	sshdtest.Need(t)
	s := &server{t: t, dir: t.TempDir()}
	s.bin = sshdtest.InstallBinary(t, buildBinary(t), "gitserver")
	s.repos = filepath.Join(s.dir, "repos")
	s.data = filepath.Join(s.dir, "data")
	s.cfg = filepath.Join(s.dir, "config.toml")
	for _, d := range []string{s.repos, s.data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(s.dir, "policy.toml"), e2ePolicy)
	writeFile(t, s.cfg, fmt.Sprintf("ssh_user = \"root\"\nrepos = %q\ndata_dir = %q\npolicy = \"policy.toml\"\n[log]\nlevel = \"debug\"\n", s.repos, s.data))
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
			t.Logf("gitserver log:\n%s", log)
		}
	})
	return s
}

// admin runs a gitserver admin command and returns its stdout.
func (s *server) admin(stdin string, args ...string) string {
	s.t.Helper()
	cmd := exec.Command(s.bin, append([]string{"--config", s.cfg}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("gitserver %v: %v\nstdout: %s\nstderr: %s", args, err, out.String(), errb.String())
	}
	return out.String()
}

// client is one person with a key and a home of their own.
type client struct {
	person
	s   *server
	pub string
}

// newClient makes a key for name; with register, adds it to the store.
func (s *server) newClient(name string, register bool) *client {
	s.t.Helper()
	home := filepath.Join(s.dir, "home-"+name)
	if err := os.MkdirAll(home, 0o700); err != nil {
		s.t.Fatal(err)
	}
	key := filepath.Join(home, "id_ed25519")
	c := &client{person: person{t: s.t, name: name, home: home}, s: s, pub: sshdtest.Keygen(s.t, key)}
	c.sshCfg = s.sshd.ClientConfig(s.t, home, key, "root")
	if register {
		s.admin(c.pub+"\n", "keys", "add", "--user", name)
	}
	return c
}

// ssh runs the real ssh client as c with a remote command, without a tty.
func (c *client) ssh(extra []string, command ...string) (string, error) {
	return c.person.ssh(append([]string{"-T"}, extra...), command...)
}

func writeFile(t testing.TB, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// commitAndPush makes a commit in a fresh clone of url and pushes it.
func (c *client) commitAndPush(url, file string) (string, error) {
	c.s.t.Helper()
	work := filepath.Join(c.home, "work-"+strings.NewReplacer("/", "_", ":", "_").Replace(url)+file)
	c.mustGit(c.home, "clone", "-q", url, work)
	writeFile(c.s.t, filepath.Join(work, file), "hello from "+c.name+"\n")
	c.mustGit(work, "add", file)
	c.mustGit(work, "commit", "-q", "-m", "add "+file)
	return c.git(work, "push", "-q", "origin", "HEAD")
}

func TestCloneFetchPushBothPathForms(t *testing.T) {
	s := newServer(t)
	alice := s.newClient("alice", true)
	s.admin("", "repos", "create", "team/app")

	if out, err := alice.commitAndPush("root@gitsrv:team/app.git", "a.txt"); err != nil {
		t.Fatalf("push over scp-like path: %v\n%s", err, out)
	}
	// The ssh:// form sends "/team/app" (no .git): the same repository.
	work := filepath.Join(alice.home, "second")
	alice.mustGit(alice.home, "clone", "-q", "ssh://root@gitsrv/team/app", work)
	if _, err := os.Stat(filepath.Join(work, "a.txt")); err != nil {
		t.Fatalf("ssh:// clone lacks the commit pushed over the scp-like path: %v", err)
	}
	writeFile(t, filepath.Join(work, "b.txt"), "b\n")
	alice.mustGit(work, "add", "b.txt")
	alice.mustGit(work, "commit", "-q", "-m", "b")
	alice.mustGit(work, "push", "-q", "origin", "HEAD")

	first := filepath.Join(alice.home, "work-root@gitsrv_team_app.gita.txt")
	alice.mustGit(first, "pull", "-q", "--ff-only")
	if _, err := os.Stat(filepath.Join(first, "b.txt")); err != nil {
		t.Fatalf("fetch did not bring the commit pushed over ssh://: %v", err)
	}
	log, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
	for _, want := range []string{"user=alice", "command=git-receive-pack", "repo=team/app", "decision=allow", "rule=", "duration="} {
		if !strings.Contains(string(log), want) {
			t.Errorf("operator log lacks %q:\n%s", want, log)
		}
	}
}

func TestProtocolV2(t *testing.T) {
	s := newServer(t)
	alice := s.newClient("alice", true)
	s.admin("", "repos", "create", "public/hello")
	cmd := exec.Command("git", "-c", "protocol.version=2", "ls-remote", "root@gitsrv:public/hello.git")
	cmd.Env = []string{"HOME=" + alice.home, "PATH=" + os.Getenv("PATH"), "GIT_SSH_COMMAND=ssh -F " + alice.sshCfg, "GIT_TRACE_PACKET=1"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ls-remote: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "< version 2") {
		t.Fatalf("server did not speak protocol v2:\n%s", out)
	}
}

func TestPushDeniedByPolicy(t *testing.T) {
	s := newServer(t)
	s.newClient("alice", true)
	bob := s.newClient("bob", true)
	s.admin("", "repos", "create", "public/hello")

	out, err := bob.commitAndPush("root@gitsrv:public/hello.git", "x.txt")
	if err == nil {
		t.Fatalf("bob (read-only on public/*) pushed:\n%s", out)
	}
	if !strings.Contains(out, "gitserver: repository not found or access denied") {
		t.Fatalf("push refusal message:\n%s", out)
	}
	// A repository that does not exist looks the same.
	_, err = bob.git(bob.home, "ls-remote", "root@gitsrv:public/nothere.git")
	out2, _ := bob.git(bob.home, "ls-remote", "root@gitsrv:secret/app.git")
	if err == nil || !strings.Contains(out2, "gitserver: repository not found or access denied") {
		t.Fatalf("not-found vs denied differ: %v\n%s", err, out2)
	}
}

func TestUnknownAndRemovedKeysRefused(t *testing.T) {
	s := newServer(t)
	s.admin("", "repos", "create", "public/hello")
	mallory := s.newClient("mallory", false)
	if out, err := mallory.ssh(nil, "git-upload-pack public/hello.git"); err == nil || !strings.Contains(out, "Permission denied") {
		t.Fatalf("unknown key: err=%v\n%s", err, out)
	}

	carol := s.newClient("carol", true)
	if out, err := carol.git(carol.home, "ls-remote", "root@gitsrv:public/hello.git"); err != nil {
		t.Fatalf("carol before removal: %v\n%s", err, out)
	}
	fp := strings.Fields(s.admin("", "keys", "list", "--user", "carol"))
	s.admin("", "keys", "remove", "--user", "carol")
	out, err := carol.git(carol.home, "ls-remote", "root@gitsrv:public/hello.git")
	if err == nil || !strings.Contains(out, "Permission denied") {
		t.Fatalf("removed key still works (%v): %v\n%s", fp, err, out)
	}
}

func TestGreeting(t *testing.T) {
	s := newServer(t)
	alice := s.newClient("alice", true)
	out, err := alice.ssh(nil)
	if err == nil {
		t.Fatalf("interactive login succeeded:\n%s", out)
	}
	if !strings.Contains(out, "Hi alice!") || !strings.Contains(out, "does not provide shell access") {
		t.Fatalf("greeting:\n%s", out)
	}
}

func TestAttacksRefusedNothingExecuted(t *testing.T) {
	s := newServer(t)
	alice := s.newClient("alice", true)
	s.admin("", "repos", "create", "public/hello")
	// A repository outside the root, reached through a symlink inside it.
	outside := filepath.Join(s.dir, "outside.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", outside).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if err := os.Symlink(outside, filepath.Join(s.repos, "public", "link.git")); err != nil {
		t.Fatal(err)
	}
	mark := filepath.Join(s.dir, "pwned")
	attacks := []string{
		"git-upload-pack '--upload-pack=touch " + mark + "'",
		"git-upload-pack --help",
		"git upload-pack '--help'",
		"git-upload-pack 'public/hello.git'; touch " + mark,
		"git-upload-pack 'public/hello.git' && touch " + mark,
		"git-upload-pack $(touch " + mark + ")",
		"git-upload-pack `touch " + mark + "`",
		"git-upload-pack 'public/hello.git'\ntouch " + mark,
		"touch " + mark,
		"sh -c 'touch " + mark + "'",
		"git-upload-pack '../../../../etc'",
		"git-receive-pack 'public/../users/alice/x.git'",
		"git-upload-pack '/public/hello.git' 'extra'",
		"git-upload-pack 'public/link.git'",
		"git-upload-pack 'public/hello.git/../../outside.git'",
		"git-upload-pack " + strings.Repeat("a", 5000),
	}
	for _, a := range attacks {
		out, err := alice.ssh(nil, a)
		if err == nil {
			t.Errorf("%q succeeded:\n%s", a, out)
		}
		if !strings.Contains(out, "gitserver: ") {
			t.Errorf("%q: no gitserver message:\n%s", a, out)
		}
		if strings.Contains(out, s.dir) {
			t.Errorf("%q: message reveals a server path:\n%s", a, out)
		}
		if _, err := os.Stat(mark); err == nil {
			t.Fatalf("%q executed a command", a)
		}
	}
}

func TestGitEnvironmentIsMinimal(t *testing.T) {
	s := newServer(t)
	alice := s.newClient("alice", true)
	s.admin("", "repos", "create", "users/alice/envtest")
	dump := filepath.Join(s.dir, "hook-env")
	hook := filepath.Join(s.repos, "users/alice/envtest.git/hooks/pre-receive")
	writeFile(t, hook, "#!/bin/sh\nenv > "+dump+"\n")
	if err := os.Chmod(hook, 0o755); err != nil {
		t.Fatal(err)
	}
	alice.sshCfg = appendSSHConfig(t, alice.sshCfg, "\tSetEnv GITSERVER_TEST_EVIL=1\n")
	if out, err := alice.commitAndPush("root@gitsrv:users/alice/envtest.git", "e.txt"); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	env, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"GITSERVER_USER=alice", "GITSERVER_KEY=SHA256:", "GITSERVER_REPO=users/alice/envtest", ":/usr/local/bin:/usr/bin:/bin\n"} {
		if !strings.Contains(string(env), want) {
			t.Errorf("hook env lacks %q:\n%s", want, env)
		}
	}
	for _, bad := range []string{"GITSERVER_TEST_EVIL", "SSH_ORIGINAL_COMMAND", "SSH_CONNECTION", "SSH_CLIENT"} {
		if strings.Contains(string(env), bad) {
			t.Errorf("hook env leaks %s:\n%s", bad, env)
		}
	}
}

// appendSSHConfig copies an ssh client config with extra lines for the
// gitsrv host.
func appendSSHConfig(t *testing.T, path, extra string) string {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := path + ".extra"
	writeFile(t, out, string(body)+extra)
	return out
}

// TestForceCommandWithExposeAuthInfo: the alternative to
// AuthorizedKeysCommand, as 'sshd-config --force-command' prints it. sshd
// reads the keys from a file outside the repos root, written by 'keys list
// --authorized-keys'; gitserver learns from SSH_USER_AUTH which key logged
// in and still decides with the key store: a removed key that is still in
// the file logs in to sshd but gets nothing.
func TestForceCommandWithExposeAuthInfo(t *testing.T) {
	s := newServerFiles(t)
	home := filepath.Join(s.dir, "home-alice")
	os.MkdirAll(home, 0o700)
	pub := sshdtest.Keygen(t, filepath.Join(home, "id_ed25519"))
	s.admin(pub+"\n", "keys", "add", "--user", "alice")
	s.admin("", "repos", "create", "team/app")
	ak := filepath.Join(s.dir, "etc", "authorized_keys")
	os.MkdirAll(filepath.Dir(ak), 0o755)
	writeFile(t, ak, s.admin("", "keys", "list", "--authorized-keys"))
	block := s.admin("", "sshd-config", "--force-command", "--keys-file", ak)
	for _, want := range []string{"\tAuthorizedKeysFile " + ak + "\n", "\tForceCommand " + s.bin + " --config " + s.cfg + " shell\n", "\tExposeAuthInfo yes\n"} {
		if !strings.Contains(block, want) {
			t.Fatalf("sshd-config --force-command lacks %q:\n%s", want, block)
		}
	}
	s.sshd = sshdtest.Start(t, "PermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\n"+block)
	alice := &client{person: person{t: t, name: "alice", home: home}, s: s, pub: pub}
	alice.sshCfg = s.sshd.ClientConfig(t, home, filepath.Join(home, "id_ed25519"), "root")
	if out, err := alice.commitAndPush("root@gitsrv:team/app.git", "f.txt"); err != nil {
		t.Fatalf("push through ForceCommand: %v\n%s\nsshd:\n%s", err, out, s.sshd.Log())
	}
	log, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
	if !strings.Contains(string(log), "user=alice") {
		t.Fatalf("log does not name alice:\n%s", log)
	}
	out, _ := exec.Command(s.bin, "--config", s.cfg, "check", "--sshd-config", s.sshd.Config).CombinedOutput()
	if !strings.Contains(string(out), "note: sshd runs gitserver for user root through ForceCommand, as it should") || strings.Contains(string(out), "sshd's") {
		t.Errorf("check on the printed ForceCommand block:\n%s", out)
	}

	s.admin("", "keys", "remove", "--user", "alice")
	if out, err := alice.git(home, "ls-remote", "root@gitsrv:team/app.git"); err == nil || !strings.Contains(out, "gitserver: ") {
		t.Errorf("ls-remote with a removed key still in authorized_keys: %v\n%s", err, out)
	}
}

// TestDeployedAsSystemUser installs gitserver the way the README says, for
// a real unprivileged ssh user: init, keys and repos run as root, the
// sshd block is the one 'gitserver sshd-config' prints, and sshd runs
// authorized-keys and shell as that user. Pushes must work (no root-owned
// file in the way) and 'gitserver check' must find nothing wrong.
func TestDeployedAsSystemUser(t *testing.T) {
	sshdtest.Need(t)
	const user = "gitserver-e2e"
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	home := filepath.Join(base, "home")
	ensureSystemUser(t, user, home)
	s := &server{t: t, dir: base}
	s.bin = sshdtest.InstallBinary(t, buildBinary(t), "gitserver")
	s.cfg = filepath.Join(base, "etc/config.toml")
	s.repos, s.data = filepath.Join(base, "repos"), filepath.Join(base, "data")
	s.admin("", "init", "--ssh-user", user, "--repos", s.repos, "--data-dir", s.data)
	writeFile(t, filepath.Join(base, "etc/policy.toml"), e2ePolicy)
	block := s.admin("", "sshd-config")
	s.sshd = sshdtest.Start(t, "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"+block)

	alice := s.newClient("alice", true)
	alice.sshCfg = s.sshd.ClientConfig(t, alice.home, filepath.Join(alice.home, "id_ed25519"), user)
	s.admin("", "repos", "create", "team/app")
	if out, err := alice.commitAndPush(user+"@gitsrv:team/app.git", "a.txt"); err != nil {
		t.Fatalf("push as %s: %v\n%s", user, err, out)
	}
	u := lookupUID(t, user)
	for _, p := range []string{s.repos, filepath.Join(s.repos, "team/app.git/refs/heads"), filepath.Join(s.data, "keys.db"), filepath.Join(s.data, "gitserver.log")} {
		if got := fileUID(t, p); got != u {
			t.Errorf("%s is owned by uid %d, want %s (%d)", p, got, user, u)
		}
	}
	out := s.admin("", "check", "--sshd-config", s.sshd.Config)
	if !strings.Contains(out, "ok:") || !strings.Contains(out, "note: sshd runs gitserver for user "+user+" through AuthorizedKeysCommand") {
		t.Errorf("check after a by-the-book install:\n%s", out)
	}

	// check reads sshd's effective configuration (sshd -T) and finds
	// what is missing from it, each with its hint.
	live, err := os.ReadFile(s.sshd.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		old, new, want, hint string
	}{
		{"\tAuthorizedKeysCommand ", "\t#AuthorizedKeysCommand ", "runs no gitserver (AuthorizedKeysCommand none", "hint: gitserver sshd-config >"},
		{"\tAuthorizedKeysFile none", "\tAuthorizedKeysFile .ssh/authorized_keys", "also reads keys for user " + user + " from .ssh/authorized_keys", "hint: AuthorizedKeysFile none"},
		{"\tAcceptEnv GIT_PROTOCOL", "\tAcceptEnv LANG", "does not accept GIT_PROTOCOL", "hint: AcceptEnv GIT_PROTOCOL"},
	} {
		if !strings.Contains(string(live), tt.old) {
			t.Fatalf("sshd config lacks %q:\n%s", tt.old, live)
		}
		broken := filepath.Join(filepath.Dir(s.sshd.Config), "sshd_config.broken")
		writeFile(t, broken, strings.Replace(string(live), tt.old, tt.new, 1))
		out := s.checkFails("--sshd-config", broken)
		if !strings.Contains(out, tt.want) || !strings.Contains(out, tt.hint) {
			t.Errorf("with %q in sshd_config, check says:\n%s\nwant %q and %q", tt.new, out, tt.want, tt.hint)
		}
	}

	// check finds a locked account and a home inside the repos root,
	// each with its hint.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--lock", user}, "is locked (its password starts with '!')"},
		{[]string{"--unlock", "--home", filepath.Join(s.repos, "home"), user}, "inside the repos root"},
	} {
		if out, err := exec.Command("usermod", tt.args...).CombinedOutput(); err != nil {
			t.Fatalf("usermod %v: %v: %s", tt.args, err, out)
		}
		out := s.checkFails()
		if !strings.Contains(out, tt.want) || !strings.Contains(out, "hint: usermod") {
			t.Errorf("after usermod %v, check says:\n%s\nwant %q with a usermod hint", tt.args, out, tt.want)
		}
	}
}

// checkFails runs 'gitserver check', which must find a problem, and
// returns what it printed.
func (s *server) checkFails(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(s.bin, append([]string{"--config", s.cfg, "check"}, args...)...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		s.t.Fatalf("check: %v, want exit 1\n%s", err, out)
	}
	return string(out)
}
