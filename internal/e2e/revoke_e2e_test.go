package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/internal/sshdtest"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
)

// These tests hold one authenticated connection open with OpenSSH's
// ControlMaster, as git-lfs and many users' ssh configs do, and run every
// later command over it: sshd runs the forced command for each session
// without asking authorized-keys again, and serve's listener serves each
// session on the connection it authenticated. Whatever changes meanwhile
// (a key removed, a policy edited) must decide the next session.

const revokePolicy = `
[groups]
admins = ["alice", "carol"]

[[rule]]
repos  = ["**"]
users  = ["@admins"]
access = "admin"

[[rule]]
repos  = ["team/*"]
users  = ["bob"]
access = "create"

[[rule]]
repos  = ["public/*"]
users  = ["@all"]
access = "read"
`

// revokedPolicy takes bob's rights away, and everyone's reads.
const revokedPolicy = `
[groups]
admins = ["alice", "carol"]

[[rule]]
repos  = ["**"]
users  = ["@admins"]
access = "admin"
`

// site is what the scenario needs from either server: run an admin
// command, write the policy, and where things are.
type site struct {
	t      *testing.T
	admin  func(stdin string, args ...string) string
	create func(name string) // a repository, as 'repos create' makes it
	policy string            // the policy file
	repos  string
	login  string // the ssh login name: "root" behind the test sshd, "git" under serve
}

// muxed is a person whose ssh and git run over one master connection.
type muxed struct {
	person
	sock string
}

// openMaster authenticates p once and keeps the connection as a
// ControlMaster at a socket in p's home; it is closed when the test ends.
func openMaster(t *testing.T, p person) *muxed {
	t.Helper()
	m := &muxed{person: p, sock: filepath.Join(p.home, "mux")}
	cmd := exec.Command("ssh", "-F", p.sshCfg, "-o", "ControlMaster=yes", "-o", "ControlPath="+m.sock, "-o", "ControlPersist=no", "-N", "-f", "gitsrv")
	cmd.Env = []string{"HOME=" + p.home, "PATH=" + os.Getenv("PATH")}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: opening the master connection: %v\n%s", p.name, err, out)
	}
	t.Cleanup(func() { _, _ = m.control("exit") })
	if out, err := m.control("check"); err != nil {
		t.Fatalf("%s: master not running: %v\n%s", p.name, err, out)
	}
	return m
}

// control sends the master a control command (check, exit).
func (m *muxed) control(op string) (string, error) {
	cmd := exec.Command("ssh", "-F", m.sshCfg, "-o", "ControlPath="+m.sock, "-O", op, "gitsrv")
	cmd.Env = []string{"HOME=" + m.home, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// sshOpts makes ssh use the master and never open a connection of its own.
func (m *muxed) sshOpts() []string {
	return []string{"-o", "ControlMaster=no", "-o", "ControlPath=" + m.sock, "-T"}
}

// run runs a remote command over the master, with stdin.
func (m *muxed) run(stdin string, command ...string) (string, error) {
	args := append(append([]string{"-F", m.sshCfg}, m.sshOpts()...), "gitsrv")
	cmd := exec.Command("ssh", append(args, command...)...)
	cmd.Env = []string{"HOME=" + m.home, "PATH=" + os.Getenv("PATH")}
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// gitMux runs git over the master.
func (m *muxed) gitMux(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	env := m.env()
	for i, kv := range env {
		if strings.HasPrefix(kv, "GIT_SSH_COMMAND=") {
			env[i] = "GIT_SSH_COMMAND=ssh -F " + m.sshCfg + " " + strings.Join(m.sshOpts(), " ")
		}
	}
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// refused checks that a command over the master got the fixed denial.
func refused(t *testing.T, what, out string, err error) {
	t.Helper()
	if err == nil || !strings.Contains(out, "gitserver: repository not found or access denied") {
		t.Errorf("%s over the open connection: %v, want the denial:\n%s", what, err, out)
	}
}

// revokeScenario is the same story for both servers. bob, carol (an
// admin with two keys) and alice each hold a master connection open.
func revokeScenario(t *testing.T, s site, bob, carol, alice *muxed, newKey string) {
	url := func(name string) string { return s.login + "@gitsrv:" + name + ".git" }
	s.create("public/hello")
	s.create("team/app")

	// Before: everything works over the master.
	if out, err := bob.run("", "whoami"); err != nil || !strings.Contains(out, "user bob") {
		t.Fatalf("bob whoami before: %v\n%s", err, out)
	}
	if out, err := bob.gitMux(bob.home, "ls-remote", url("team/app")); err != nil {
		t.Fatalf("bob ls-remote before: %v\n%s", err, out)
	}

	// bob's only key is removed: over his open connection nothing works,
	// not git, not the built-in commands, and he cannot enrol a new key.
	s.admin("", "keys", "remove", "--user", "bob")
	out, err := bob.gitMux(bob.home, "ls-remote", url("public/hello"))
	refused(t, "bob ls-remote after keys remove", out, err)
	out, err = bob.run("", "whoami")
	refused(t, "bob whoami", out, err)
	out, err = bob.run("", "info")
	refused(t, "bob info", out, err)
	out, err = bob.run(newKey+"\n", "keys", "add")
	refused(t, "bob keys add", out, err)
	if list := s.admin("", "keys", "list", "--user", "bob"); strings.Contains(list, "SHA256:") {
		t.Errorf("bob enrolled a key after his removal:\n%s", list)
	}
	out, err = bob.run("", "")
	if err == nil || strings.Contains(out, "Hi bob") {
		t.Errorf("bob's interactive login after removal was greeted: %v\n%s", err, out)
	}

	// carol, an admin, loses the key her connection used but keeps
	// another: that connection can no longer act for anyone.
	fps := strings.Fields(s.admin("", "keys", "list", "--user", "carol"))
	used := fingerprintOf(t, carol)
	if len(fps) < 2 || !strings.Contains(strings.Join(fps, " "), used) {
		t.Fatalf("carol's keys: %q, want two, one of them %s", fps, used)
	}
	s.admin("", "keys", "remove", used)
	out, err = carol.run(newKey+"\n", "keys", "add", "--user", "erin")
	refused(t, "carol keys add --user erin", out, err)
	out, err = carol.run("", "keys", "list", "--user", "alice")
	refused(t, "carol keys list --user alice", out, err)
	out, err = carol.gitMux(carol.home, "ls-remote", url("team/app"))
	refused(t, "carol ls-remote", out, err)
	if list := s.admin("", "keys", "list", "--user", "erin"); strings.Contains(list, "SHA256:") {
		t.Errorf("a revoked admin key enrolled a key for erin:\n%s", list)
	}

	// A policy edit governs the next session on an open connection:
	// alice (still an admin) is unaffected, but bob's replacement key,
	// on a connection opened before the edit, loses team/* at once.
	if out, err := alice.gitMux(alice.home, "ls-remote", url("public/hello")); err != nil {
		t.Fatalf("alice before the policy edit: %v\n%s", err, out)
	}
	writeFile(t, s.policy, revokedPolicy)
	if out, err := alice.gitMux(alice.home, "ls-remote", url("team/app")); err != nil {
		t.Errorf("alice (admin) after the policy edit: %v\n%s", err, out)
	}
}

// fingerprintOf is the fingerprint of the key m's connection uses, as
// 'whoami' reports it.
func fingerprintOf(t *testing.T, m *muxed) string {
	t.Helper()
	out, err := m.run("", "whoami")
	if err != nil {
		t.Fatalf("%s whoami: %v\n%s", m.name, err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "key" {
			return f[1]
		}
	}
	t.Fatalf("%s whoami printed no key:\n%s", m.name, out)
	return ""
}

// policyScenario: after a policy edit, the next session on a connection
// opened before it follows the new policy: a clone is refused, and a
// push that would have created a repository creates none.
func policyScenario(t *testing.T, s site, dave *muxed) {
	url := func(name string) string { return s.login + "@gitsrv:" + name + ".git" }
	s.create("public/pol")
	if out, err := dave.gitMux(dave.home, "ls-remote", url("public/pol")); err != nil {
		t.Fatalf("dave before the edit: %v\n%s", err, out)
	}
	writeFile(t, s.policy, revokedPolicy)
	out, err := dave.gitMux(dave.home, "ls-remote", url("public/pol"))
	refused(t, "dave ls-remote after the policy edit", out, err)
	work := filepath.Join(dave.home, "new")
	dave.mustGit(dave.home, "init", "-q", work)
	writeFile(t, filepath.Join(work, "f"), "x\n")
	dave.mustGit(work, "add", "f")
	dave.mustGit(work, "commit", "-q", "-m", "f")
	out, err = dave.gitMux(work, "push", "-q", url("team/created"), "HEAD:refs/heads/main")
	refused(t, "dave push creating team/created", out, err)
	if _, err := os.Stat(filepath.Join(s.repos, "team/created.git")); err == nil {
		t.Error("a push refused by the new policy created team/created.git")
	}
}

// daveRule lets dave create anywhere, until revokedPolicy.
const daveRule = "\n[[rule]]\nrepos = [\"**\"]\nusers = [\"dave\"]\naccess = \"create\"\n"

func TestRevokedBehindSSHDOverOpenConnection(t *testing.T) {
	s := newServer(t)
	policy := filepath.Join(s.dir, "policy.toml")
	writeFile(t, policy, revokePolicy+daveRule)
	bob := s.newClient("bob", true)
	carol := s.newClient("carol", true)
	s.admin(sshdtest.Keygen(t, filepath.Join(carol.home, "second"))+"\n", "keys", "add", "--user", "carol")
	alice := s.newClient("alice", true)
	dave := s.newClient("dave", true)
	newKey := sshdtest.Keygen(t, filepath.Join(bob.home, "new"))
	create := func(name string) { s.admin("", "repos", "create", name) }
	st := site{t: t, admin: s.admin, create: create, policy: policy, repos: s.repos, login: "root"}
	mb, mc, ma, md := openMaster(t, bob.person), openMaster(t, carol.person), openMaster(t, alice.person), openMaster(t, dave.person)
	revokeScenario(t, st, mb, mc, ma, newKey)
	writeFile(t, policy, revokePolicy+daveRule)
	policyScenario(t, st, md)
}

func TestRevokedUnderServeOverOpenConnection(t *testing.T) {
	s := newServed(t, "")
	policy := filepath.Join(s.dir, "policy.toml")
	writeFile(t, policy, revokePolicy+daveRule)
	bob := s.client("bob", true)
	carol := s.client("carol", true)
	alice := s.client("alice", true)
	dave := s.client("dave", true)
	s.start()
	// serve's ssh_user is a login name, not a system user, which the
	// admin commands want when run as root: the test edits the store
	// through package keys, as those commands do.
	store := keys.Open(filepath.Join(s.data, "keys.db"), keys.Options{})
	admin := func(stdin string, args ...string) string {
		t.Helper()
		var err error
		out := ""
		switch {
		case len(args) == 3 && args[0] == "keys" && args[1] == "remove":
			_, err = store.Remove(args[2])
		case len(args) == 4 && args[:3][1] == "remove":
			_, err = store.RemoveUser(args[3])
		case len(args) == 4 && args[1] == "list":
			err = store.List(args[3], func(r keys.Record) error { out += r.Key.Fingerprint + "\n"; return nil })
		case len(args) == 4 && args[1] == "add":
			var k keys.Key
			if k, err = sshkey.ParseLine(strings.TrimSpace(stdin)); err == nil {
				_, err = store.Add([]keys.Record{{User: args[3], Key: k}})
			}
		default:
			t.Fatalf("admin %q: not a command this test knows", args)
		}
		if err != nil {
			t.Fatalf("admin %q: %v", args, err)
		}
		return out
	}
	admin(sshdtest.Keygen(t, filepath.Join(carol.home, "second"))+"\n", "keys", "add", "--user", "carol")
	newKey := sshdtest.Keygen(t, filepath.Join(bob.home, "new"))
	create := func(name string) { s.repo(name) }
	st := site{t: t, admin: admin, create: create, policy: policy, repos: s.repos, login: "git"}
	mb, mc, ma, md := openMaster(t, bob.person), openMaster(t, carol.person), openMaster(t, alice.person), openMaster(t, dave.person)
	revokeScenario(t, st, mb, mc, ma, newKey)
	writeFile(t, policy, revokePolicy+daveRule)
	policyScenario(t, st, md)
	if strings.Contains(s.log(), "reloaded") {
		t.Error("serve reloaded: the policy edit was to take effect without SIGHUP")
	}
}
