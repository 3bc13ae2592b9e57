package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/internal/sshdtest"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
)

// These tests run 'gitserver serve' as a child process on a free loopback
// port, as the current user, and drive it with the real OpenSSH client and
// real git. They need no root and no sshd.

const servePolicy = `
[groups]
admins = ["alice"]

[[rule]]
repos  = ["**"]
users  = ["@admins"]
access = "write"

[[rule]]
repos  = ["public/*"]
users  = ["@all"]
access = "read"
`

// served is a running 'gitserver serve' with its files.
type served struct {
	t       testing.TB
	dir     string
	cfg     string
	repos   string
	data    string
	port    int
	hostPub string
	cmd     *exec.Cmd
	out     *sshdtest.SyncBuffer
	bin     string // the gitserver to run; "" for buildBinary's
}

// newServed writes a config (with extra lines in [listen]) and the policy;
// start runs the server.
func newServed(t testing.TB, listenExtra string) *served {
	t.Helper()
	s := &served{t: t, dir: t.TempDir(), port: sshdtest.FreePort(t)}
	s.repos, s.data = filepath.Join(s.dir, "repos"), filepath.Join(s.dir, "data")
	s.cfg = filepath.Join(s.dir, "config.toml")
	for _, d := range []string{s.repos, s.data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(s.dir, "policy.toml"), servePolicy)
	// An existing OpenSSH host key is loaded (a missing one would be generated).
	hostKey := filepath.Join(s.data, "ssh_host_ed25519_key")
	s.hostPub = sshdtest.Keygen(t, hostKey)
	writeFile(t, s.cfg, fmt.Sprintf("ssh_user = \"git\"\nrepos = %q\ndata_dir = %q\npolicy = \"policy.toml\"\n[log]\nlevel = \"debug\"\n[listen]\naddress = \"127.0.0.1:%d\"\n%s",
		s.repos, s.data, s.port, listenExtra))
	return s
}

// start runs the server and waits until it accepts connections.
func (s *served) start() {
	s.t.Helper()
	s.startArgs(s.dir, "--config", s.cfg, "serve")
}

func (s *served) startArgs(cwd string, args ...string) {
	s.t.Helper()
	s.out = &sshdtest.SyncBuffer{}
	bin := s.bin
	if bin == "" {
		bin = buildBinary(s.t)
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = cwd
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
		if s.t.Failed() {
			log, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
			s.t.Logf("serve output:\n%s\ngitserver log:\n%s", s.out.String(), log)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", s.addr()); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("serve did not listen on %s", s.addr())
}

func (s *served) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// repo creates REPOS/name.git as 'repos create' does.
func (s *served) repo(name string) string {
	s.t.Helper()
	dir := filepath.Join(s.repos, name+".git")
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := setup.CreateBareRepo("git", dir, "main"); err != nil {
		s.t.Fatal(err)
	}
	return dir
}

// log returns the operator's log so far.
func (s *served) log() string {
	b, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
	return string(b)
}

// sclient is a person with a key, a home, and an ssh config that reaches
// the server as "gitsrv" and as 127.0.0.1.
type sclient struct {
	person
	s   *served
	key string
	pub string
}

func (s *served) client(name string, register bool) *sclient {
	s.t.Helper()
	home := filepath.Join(s.dir, "home-"+name)
	if err := os.MkdirAll(home, 0o700); err != nil {
		s.t.Fatal(err)
	}
	c := &sclient{person: person{t: s.t, name: name, home: home}, s: s, key: filepath.Join(home, "id_ed25519")}
	c.pub = sshdtest.Keygen(s.t, c.key)
	c.sshCfg = c.writeConfig("", c.key)
	if register {
		k, err := sshkey.ParseLine(c.pub)
		if err != nil {
			s.t.Fatal(err)
		}
		if _, err := keys.Open(filepath.Join(s.data, "keys.db"), keys.Options{}).Add([]keys.Record{{User: name, Key: k}}); err != nil {
			s.t.Fatal(err)
		}
	}
	return c
}

// writeConfig writes an ssh config with extra lines and identities.
func (c *sclient) writeConfig(extra string, identities ...string) string {
	c.s.t.Helper()
	kh := filepath.Join(c.home, "known_hosts")
	writeFile(c.s.t, kh, fmt.Sprintf("[127.0.0.1]:%d %s\n", c.s.port, c.s.hostPub))
	ids := ""
	for _, id := range identities {
		ids += "\tIdentityFile " + id + "\n"
	}
	body := fmt.Sprintf("Host gitsrv 127.0.0.1\n\tHostName 127.0.0.1\n\tPort %d\n\tUser git\n%s\tIdentitiesOnly yes\n\tIdentityAgent none\n\tBatchMode yes\n\tUserKnownHostsFile %s\n\tStrictHostKeyChecking yes\n\tHostKeyAlias [127.0.0.1]:%d\n\tConnectTimeout 10\n\tLogLevel ERROR\n%s",
		c.s.port, ids, kh, c.s.port, extra)
	path := filepath.Join(c.home, fmt.Sprintf("ssh_config_%d", time.Now().UnixNano()))
	writeFile(c.s.t, path, body)
	return path
}

// push clones url, commits file and pushes.
func (c *sclient) push(url, file string) (string, error) {
	c.s.t.Helper()
	work, err := os.MkdirTemp(c.home, "work-")
	if err != nil {
		c.s.t.Fatal(err)
	}
	c.mustGit(c.home, "clone", "-q", url, work)
	writeFile(c.s.t, filepath.Join(work, file), "hello from "+c.name+"\n")
	c.mustGit(work, "add", file)
	c.mustGit(work, "commit", "-q", "-m", "add "+file)
	return c.git(work, "push", "-q", "origin", "HEAD")
}

func TestServeCloneAndPush(t *testing.T) {
	t.Parallel()
	s := newServed(t, "")
	alice := s.client("alice", true)
	s.repo("team/app")
	s.start()

	url := fmt.Sprintf("ssh://git@127.0.0.1:%d/team/app.git", s.port)
	if out, err := alice.push(url, "a.txt"); err != nil {
		t.Fatalf("push over ssh://: %v\n%s", err, out)
	}
	if out, err := alice.push("gitsrv:team/app.git", "b.txt"); err != nil {
		t.Fatalf("push over the scp form: %v\n%s", err, out)
	}
	work := filepath.Join(alice.home, "check")
	alice.mustGit(alice.home, "clone", "-q", url, work)
	for _, f := range []string{"a.txt", "b.txt"} {
		if _, err := os.Stat(filepath.Join(work, f)); err != nil {
			t.Errorf("clone lacks %s: %v", f, err)
		}
	}
	log := s.log()
	for _, want := range []string{"connection open", "connection closed", "user=alice", "SHA256:", "client=127.0.0.1:", "command=git-receive-pack", "repo=team/app", "decision=allow", "rule=", "exit=0", "duration="} {
		if !strings.Contains(log, want) {
			t.Errorf("operator log lacks %q", want)
		}
	}
}

func TestServeProtocolV2AndDenied(t *testing.T) {
	t.Parallel()
	s := newServed(t, "")
	s.client("alice", true)
	bob := s.client("bob", true)
	s.repo("public/hello")
	s.start()

	cmd := exec.Command("git", "-c", "protocol.version=2", "ls-remote", "gitsrv:public/hello.git")
	cmd.Env = append(bob.env(), "GIT_TRACE_PACKET=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "< version 2") {
		t.Fatalf("protocol v2 ls-remote: %v\n%s", err, out)
	}
	if out, err := bob.push("gitsrv:public/hello.git", "x.txt"); err == nil || !strings.Contains(out, "gitserver: repository not found or access denied") {
		t.Fatalf("bob (read-only) pushed or got another message: %v\n%s", err, out)
	}
	out2, err := bob.git(bob.home, "ls-remote", "gitsrv:secret/nothere.git")
	if err == nil || !strings.Contains(out2, "gitserver: repository not found or access denied") || strings.Contains(out2, s.dir) {
		t.Fatalf("not found: %v\n%s", err, out2)
	}
	if !strings.Contains(s.log(), "decision=deny") {
		t.Error("operator log lacks decision=deny")
	}
}

func TestServeRefusals(t *testing.T) {
	t.Parallel()
	s := newServed(t, "")
	alice := s.client("alice", true)
	mallory := s.client("mallory", false)
	s.repo("public/hello")
	s.start()

	if out, err := mallory.ssh(nil, "git-upload-pack public/hello.git"); err == nil || !strings.Contains(out, "Permission denied") {
		t.Errorf("unknown key: %v\n%s", err, out)
	}
	if out, err := alice.ssh([]string{"-l", "root"}, "git-upload-pack public/hello.git"); err == nil || !strings.Contains(out, "Permission denied") {
		t.Errorf("login name root: %v\n%s", err, out)
	}
	out, err := alice.ssh([]string{"-T"})
	if err == nil || !strings.Contains(out, "Hi alice!") {
		t.Errorf("shell: %v\n%s", err, out)
	}
	out, err = alice.ssh([]string{"-tt"})
	if err == nil || !strings.Contains(out, "PTY allocation request failed") || strings.Contains(out, "$ ") {
		t.Errorf("ssh -tt: %v\n%s", err, out)
	}
	// Remote forwarding: refused, and ssh says so.
	out, err = alice.ssh([]string{"-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:9"})
	if err == nil || !strings.Contains(out, "forwarding failed") {
		t.Errorf("ssh -R: %v\n%s", err, out)
	}
	// Local forwarding: the listener refuses the direct-tcpip channel.
	lport := sshdtest.FreePort(t)
	fwd := exec.Command("ssh", "-F", alice.sshCfg, "-o", "LogLevel=INFO", "-N", "-L", fmt.Sprintf("127.0.0.1:%d:%s", lport, s.addr()), "gitsrv")
	fwd.Env = []string{"HOME=" + alice.home, "PATH=" + os.Getenv("PATH")}
	var fwdOut sshdtest.SyncBuffer
	fwd.Stdout, fwd.Stderr = &fwdOut, &fwdOut
	if err := fwd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { fwd.Process.Kill(); fwd.Wait() }()
	var got string
	for i := 0; i < 100 && !strings.Contains(got, "prohibited"); i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", lport)); err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			b, _ := io.ReadAll(c)
			c.Close()
			if bytes.HasPrefix(b, []byte("SSH-")) {
				t.Fatalf("ssh -L reached the server through the tunnel: %q", b)
			}
		}
		time.Sleep(50 * time.Millisecond)
		got = fwdOut.String()
	}
	if !strings.Contains(got, "administratively prohibited") {
		t.Errorf("ssh -L: channel not refused as prohibited:\n%s", got)
	}
	if !strings.Contains(s.log(), "channel refused") {
		t.Error("operator log lacks the refused channel")
	}
}

func TestServeEnvOtherThanGitProtocolIgnored(t *testing.T) {
	t.Parallel()
	s := newServed(t, "")
	alice := s.client("alice", true)
	dir := s.repo("team/envtest")
	dump := filepath.Join(s.dir, "hook-env")
	hook := filepath.Join(dir, "hooks", "pre-receive")
	writeFile(t, hook, "#!/bin/sh\nenv > "+dump+"\n")
	if err := os.Chmod(hook, 0o755); err != nil {
		t.Fatal(err)
	}
	alice.sshCfg = alice.writeConfig("\tSetEnv FOO=bar LD_PRELOAD=/tmp/evil.so\n", alice.key)
	s.start()
	if out, err := alice.push("gitsrv:team/envtest.git", "e.txt"); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	env, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	// (push speaks protocol v0: git sends no GIT_PROTOCOL for it.)
	for _, want := range []string{"GITSERVER_USER=alice", "GITSERVER_REPO=team/envtest"} {
		if !strings.Contains(string(env), want) {
			t.Errorf("hook env lacks %q:\n%s", want, env)
		}
	}
	for _, bad := range []string{"FOO", "LD_PRELOAD", "SSH_"} {
		if strings.Contains(string(env), bad) {
			t.Errorf("hook env has %s:\n%s", bad, env)
		}
	}
}

// TestServeOfferedKeyIsNotIdentity is the CVE-2024-45337 regression test
// with OpenSSH: the client offers admin's public key, which the server
// accepts in the query phase, but has no private key for it; it then
// authenticates with its own. It must be itself, never admin.
func TestServeOfferedKeyIsNotIdentity(t *testing.T) {
	t.Parallel()
	s := newServed(t, "")
	admin := s.client("alice", true)
	mallory := s.client("mallory", true)
	s.start()
	// mallory has admin's public key, not the private one.
	stolen := filepath.Join(mallory.home, "stolen")
	writeFile(t, stolen+".pub", admin.pub+"\n")
	mallory.sshCfg = mallory.writeConfig("", stolen, mallory.key)
	out, err := mallory.ssh([]string{"-T", "-v"})
	if !strings.Contains(out, "Server accepts key: "+stolen) {
		t.Fatalf("the server was not offered admin's key first (test is not testing):\n%s", out)
	}
	if err == nil || !strings.Contains(out, "Hi mallory!") || strings.Contains(out, "Hi alice!") {
		t.Fatalf("after offering alice's key, mallory is greeted as:\n%s", out)
	}
	if strings.Contains(s.log(), "user=alice") {
		t.Fatalf("the server logged alice for mallory's connection:\n%s", s.log())
	}
}

// TestServeFloodDoesNotStopClone holds 300 unauthenticated connections,
// idle and half-open (version sent, then silence), from one address and
// from many, against small limits; an authenticated clone from another
// address still succeeds, and the server holds a bounded number of them.
func TestServeFloodDoesNotStopClone(t *testing.T) {
	t.Parallel()
	s := newServed(t, "max_startups = 20\nper_source_max_startups = 5\nlogin_grace_time = \"30s\"\n")
	alice := s.client("alice", true)
	s.repo("team/app")
	s.start()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 300 {
		src := "127.0.0.2" // one address
		if i%2 == 1 {
			src = fmt.Sprintf("127.0.0.%d", 3+i%200) // many
		}
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
		c, err := d.Dial("tcp", s.addr())
		if err != nil {
			continue // refused: fine
		}
		if i%3 == 0 {
			io.WriteString(c, "SSH-2.0-halfopen\r\n")
		}
		conns = append(conns, c)
	}
	time.Sleep(200 * time.Millisecond)
	if n := openFDs(t, s.cmd.Process.Pid); n > 20+4*20+30 {
		t.Errorf("server holds %d file descriptors under the flood: not bounded", n)
	}
	out, err := alice.git(alice.home, "clone", "-q", fmt.Sprintf("ssh://git@127.0.0.1:%d/team/app.git", s.port), filepath.Join(alice.home, "c"))
	if err != nil {
		t.Fatalf("clone under flood: %v\n%s", err, out)
	}
}

// openFDs counts a process's open file descriptors.
func openFDs(t *testing.T, pid int) int {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	return len(entries)
}

// TestServeBurstFromOneHost runs many clones at once from one address,
// more than per_source_max_startups: authenticated sessions are not capped
// per source, and handshakes over the limit wait their turn.
func TestServeBurstFromOneHost(t *testing.T) {
	t.Parallel()
	s := newServed(t, "per_source_max_startups = 3\n")
	alice := s.client("alice", true)
	s.repo("team/app")
	s.start()
	const n = 40
	errs := make(chan string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := alice.git(alice.home, "clone", "-q", "gitsrv:team/app.git", filepath.Join(alice.home, "burst-"+strconv.Itoa(i)))
			if err != nil {
				errs <- fmt.Sprintf("%v: %s", err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("clone in a burst of %d: %s", n, e)
	}
}

// bigRepo creates team/big with a few MB of incompressible data.
func bigRepo(t *testing.T, s *served, c *sclient) {
	t.Helper()
	s.repo("team/big")
	work := filepath.Join(c.home, "big-src")
	c.mustGit(c.home, "init", "-q", work)
	blob := make([]byte, 6<<20)
	for i := range blob {
		blob[i] = byte(i*7919 ^ i>>3 ^ i>>11)
	}
	if f, err := os.Open("/dev/urandom"); err == nil {
		io.ReadFull(f, blob)
		f.Close()
	}
	if err := os.WriteFile(filepath.Join(work, "blob"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	c.mustGit(work, "add", "blob")
	c.mustGit(work, "commit", "-q", "-m", "big")
	c.mustGit(work, "push", "-q", "gitsrv:team/big.git", "HEAD:refs/heads/main")
}

// TestServeGracefulShutdown sends SIGTERM while a clone is in flight: the
// clone completes, serve exits 0, and new connections are refused.
func TestServeGracefulShutdown(t *testing.T) {
	t.Parallel()
	s := newServed(t, "")
	alice := s.client("alice", true)
	s.start()
	bigRepo(t, s, alice)

	// A slow reader: the client side of the connection reads nothing for
	// a second, so git upload-pack is surely running when SIGTERM comes.
	slow := filepath.Join(alice.home, "slowssh")
	writeFile(t, slow, "#!/bin/sh\nssh -F "+alice.sshCfg+" \"$@\" | { sleep 1; cat; }\n")
	os.Chmod(slow, 0o755)
	cmd := exec.Command("git", "clone", "-q", "-b", "main", "gitsrv:team/big.git", filepath.Join(alice.home, "during"))
	cmd.Env = append(alice.env(), "GIT_SSH_COMMAND="+slow)
	var out sshdtest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.log(), "command=git-upload-pack repo=team/big\n") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	cloneErr := cmd.Wait()
	waitErr := s.cmd.Wait()
	if cloneErr != nil {
		t.Fatalf("clone in flight at SIGTERM failed: %v\n%s", cloneErr, out.String())
	}
	if _, err := os.Stat(filepath.Join(alice.home, "during", "blob")); err != nil {
		t.Fatalf("clone incomplete: %v", err)
	}
	if waitErr != nil {
		t.Fatalf("serve exited with %v after SIGTERM, want 0", waitErr)
	}
	if c, err := net.DialTimeout("tcp", s.addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("new connection accepted after shutdown")
	}
	if !strings.Contains(s.log(), "command=git-upload-pack repo=team/big decision=allow") {
		t.Errorf("log lacks the clone that was drained")
	}
}

// TestServeReload changes the policy to deny and sends SIGHUP: the next
// request is denied, and a connection open across the reload is not
// dropped.
func TestServeReload(t *testing.T) {
	t.Parallel()
	s := newServed(t, "")
	alice := s.client("alice", true)
	s.repo("team/app")
	s.start()
	if out, err := alice.git(alice.home, "ls-remote", "gitsrv:team/app.git"); err != nil {
		t.Fatalf("before reload: %v\n%s", err, out)
	}
	// A connection held open across the reload: a git-upload-pack that
	// has advertised and waits for the client.
	hold := exec.Command("ssh", "-F", alice.sshCfg, "gitsrv", "git-upload-pack 'team/app.git'")
	hold.Env = []string{"HOME=" + alice.home, "PATH=" + os.Getenv("PATH")}
	var holdErr sshdtest.SyncBuffer
	hold.Stderr = &holdErr
	stdin, _ := hold.StdinPipe()
	stdout, _ := hold.StdoutPipe()
	if err := hold.Start(); err != nil {
		t.Fatal(err)
	}
	defer hold.Process.Kill()
	advertised := make(chan error, 1)
	go func() {
		// An empty repository advertises just a flush packet.
		_, err := io.ReadFull(stdout, make([]byte, 4))
		advertised <- err
		io.Copy(io.Discard, stdout)
	}()
	select {
	case err := <-advertised:
		if err != nil {
			t.Fatalf("held connection: no advertisement: %v\n%s", err, holdErr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("held connection: no advertisement in 10s\n%s", holdErr.String())
	}

	writeFile(t, filepath.Join(s.dir, "policy.toml"), "[[rule]]\nrepos = [\"**\"]\nusers = [\"@all\"]\naccess = \"none\"\n")
	s.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.log(), "reloaded") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	out, err := alice.git(alice.home, "ls-remote", "gitsrv:team/app.git")
	if err == nil || !strings.Contains(out, "repository not found or access denied") {
		t.Fatalf("after reload to deny: %v\n%s", err, out)
	}
	// The held connection is alive: finish the protocol with a flush.
	io.WriteString(stdin, "0000")
	stdin.Close()
	if err := hold.Wait(); err != nil {
		t.Fatalf("connection open across the reload was dropped: %v", err)
	}
	if s.cmd.ProcessState != nil {
		t.Fatal("serve exited on SIGHUP")
	}
}

// TestServeEmbeddedDefault is the README's first command, as a newcomer
// runs it: no config, a key, a fresh directory; then clone and push.
func TestServeEmbeddedDefault(t *testing.T) {
	t.Parallel()
	s := &served{t: t, dir: t.TempDir(), port: sshdtest.FreePort(t)}
	cwd := filepath.Join(s.dir, "cwd")
	os.MkdirAll(cwd, 0o755)
	s.data = filepath.Join(cwd, "mydata")
	me := &sclient{person: person{t: t, name: "me", home: filepath.Join(s.dir, "home")}, s: s}
	os.MkdirAll(me.home, 0o700)
	me.key = filepath.Join(me.home, "id_ed25519")
	me.pub = sshdtest.Keygen(t, me.key)

	// Without a key: a clear error, nothing listening.
	bin := buildBinary(t)
	noKey := exec.Command(bin, "--config", filepath.Join(s.dir, "nope.toml"), "serve", "--data", "mydata", "--listen", s.addr())
	noKey.Dir = cwd
	out, err := noKey.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "gitserver: no keys yet: run 'gitserver serve --admin-key ~/.ssh/id_ed25519.pub'") {
		t.Fatalf("serve without keys: %v\n%s", err, out)
	}

	s.startArgs(cwd, "--config", filepath.Join(s.dir, "nope.toml"), "serve", "--admin-key", me.key+".pub", "--data", "mydata", "--listen", s.addr())
	hostPub, err := os.ReadFile(filepath.Join(s.data, "ssh_host_ed25519_key"))
	if err != nil {
		t.Fatalf("no host key generated: %v", err)
	}
	s.hostPub = publicLine(t, hostPub)
	me.sshCfg = me.writeConfig("", me.key)
	url := fmt.Sprintf("ssh://git@127.0.0.1:%d/hello.git", s.port)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s.out.String(), "git clone "+url) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(s.out.String(), "git clone "+url) {
		t.Fatalf("serve did not print how to clone (%s):\n%s", url, s.out.String())
	}
	if out, err := me.push(url, "first.txt"); err != nil {
		t.Fatalf("push to hello.git: %v\n%s", err, out)
	}
	for _, f := range []string{"config.toml", "policy.toml", "keys.db", "repos/hello.git/HEAD"} {
		if _, err := os.Stat(filepath.Join(s.data, f)); err != nil {
			t.Errorf("embedded default lacks %s: %v", f, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(s.data, "ssh_host_ed25519_key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("host key mode: %v %v", fi.Mode(), err)
	}
	if v, _ := exec.Command("git", "-C", filepath.Join(s.data, "repos/hello.git"), "config", "receive.fsckObjects").Output(); strings.TrimSpace(string(v)) != "true" {
		t.Errorf("hello.git receive.fsckObjects = %q", v)
	}
	// Full access: admin may create a repository by pushing to it, and
	// manage keys of any user.
	work := filepath.Join(me.home, "work-new")
	me.mustGit(me.home, "init", "-q", work)
	writeFile(t, filepath.Join(work, "f"), "x\n")
	me.mustGit(work, "add", "f")
	me.mustGit(work, "commit", "-q", "-m", "x")
	if out, err := me.git(work, "push", "-q", fmt.Sprintf("ssh://git@127.0.0.1:%d/team/new.git", s.port), "HEAD"); err != nil {
		t.Errorf("admin could not create team/new by pushing: %v\n%s", err, out)
	}
	if out, err := me.ssh(nil, "keys", "list", "--user", "admin"); err != nil || !strings.Contains(out, "SHA256:") {
		t.Errorf("admin keys list --user admin: %v\n%s", err, out)
	}
}

// publicLine is the authorized-keys line of an OpenSSH private key.
func publicLine(t *testing.T, priv []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(f, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ssh-keygen", "-y", "-f", f).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}
