package e2e

import (
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gitserver/gitserver/internal/sshdtest"
)

// Benchmarks of 'gitserver serve' against OpenSSH + 'gitserver shell' on
// the same machine and repository, alternating within one run. They need
// root and sshd (for the OpenSSH side). See README "Performance".

// benchBigRepo returns a bare, fully packed repository of about size
// bytes of incompressible data, built once and cached.
func benchBigRepo(b *testing.B, size int) string {
	b.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(cache, "gitserver-bench", fmt.Sprintf("big-%dM.git", size>>20))
	if _, err := os.Stat(filepath.Join(dir, "packed-ok")); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	work := b.TempDir()
	run := func(d string, args ...string) {
		c := exec.Command("git", args...)
		c.Dir = d
		c.Env = append(os.Environ(), "GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@x", "GIT_COMMITTER_NAME=b", "GIT_COMMITTER_EMAIL=b@x")
		if out, err := c.CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	run(work, "init", "-q")
	const file = 4 << 20
	buf := make([]byte, file)
	for i := 0; i*file < size; i++ {
		rand.Read(buf)
		writeFile(b, filepath.Join(work, fmt.Sprintf("blob%03d", i)), string(buf))
		if i%5 == 4 {
			run(work, "add", ".")
			run(work, "commit", "-q", "-m", "data "+strconv.Itoa(i))
		}
	}
	run(work, "add", ".")
	run(work, "commit", "-q", "--allow-empty", "-m", "last")
	run(work, "clone", "-q", "--bare", "--no-local", work, dir)
	run(dir, "repack", "-a", "-d", "-q")
	writeFile(b, filepath.Join(dir, "packed-ok"), "")
	return dir
}

// copyRepo copies a bare repository into root as name.git.
func copyRepo(b *testing.B, src, root, name string) {
	b.Helper()
	dst := filepath.Join(root, name+".git")
	os.MkdirAll(filepath.Dir(dst), 0o755)
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		b.Fatalf("cp: %v: %s", err, out)
	}
}

// serveVsSSHD is one repository served both ways to one client key.
type serveVsSSHD struct {
	served *served
	sshd   *server
	env    []string // git client env whose ssh config knows both hosts
	home   string
}

func newServeVsSSHD(b *testing.B) *serveVsSSHD {
	b.Helper()
	// OpenSSH + gitserver shell.
	o := newServerFiles(b)
	common := "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPermitTTY no\nDisableForwarding yes\nAcceptEnv GIT_PROTOCOL\nMaxStartups 300:30:400\n"
	o.sshd = sshdtest.Start(b, fmt.Sprintf("AuthorizedKeysFile none\nAuthorizedKeysCommand %s --config %s authorized-keys %%u %%t %%k\nAuthorizedKeysCommandUser root\nPermitRootLogin forced-commands-only\n%s", o.bin, o.cfg, common))
	// gitserver serve, same policy.
	s := newServed(b, "")
	writeFile(b, filepath.Join(s.dir, "policy.toml"), e2ePolicy)
	alice := s.client("alice", true)
	s.start()
	o.admin(alice.pub+"\n", "keys", "add", "--user", "alice")
	cfg1, _ := os.ReadFile(alice.sshCfg)
	cfg2, _ := os.ReadFile(o.sshd.ClientConfig(b, b.TempDir(), alice.key, "root"))
	both := filepath.Join(alice.home, "both_config")
	writeFile(b, both, string(cfg1)+strings.Replace(string(cfg2), "Host gitsrv", "Host opensshd", 1))
	env := []string{"HOME=" + alice.home, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "GIT_SSH_COMMAND=ssh -F " + both}
	return &serveVsSSHD{served: s, sshd: o, env: env, home: alice.home}
}

func (v *serveVsSSHD) git(args ...string) func() *exec.Cmd {
	return func() *exec.Cmd {
		c := exec.Command("git", args...)
		c.Env = v.env
		c.Dir = v.home
		return c
	}
}

// BenchmarkServeLsRemote: git ls-remote latency, serve vs OpenSSH+shell.
//
//	go test ./internal/e2e -run XXX -bench ServeLsRemote -benchtime 50x
func BenchmarkServeLsRemote(b *testing.B) {
	v := newServeVsSSHD(b)
	v.sshd.admin("", "repos", "create", "team/app")
	seedRefs(b, filepath.Join(v.sshd.repos, "team/app.git"), 20)
	copyRepo(b, filepath.Join(v.sshd.repos, "team/app.git"), v.served.repos, "team/app")
	alternate(b, []*variant{
		{name: "openssh", cmd: v.git("ls-remote", "root@opensshd:team/app.git")},
		{name: "serve", cmd: v.git("ls-remote", "gitsrv:team/app.git")},
	})
}

// BenchmarkServeClone: bare clone of a packed ~128 MB repository, serve
// vs OpenSSH+shell; reports MB/s medians and their ratio.
//
//	go test ./internal/e2e -run XXX -bench ServeClone -benchtime 9x
func BenchmarkServeClone(b *testing.B) {
	v := newServeVsSSHD(b)
	big := benchBigRepo(b, 128<<20)
	copyRepo(b, big, v.sshd.repos, "team/big")
	copyRepo(b, big, v.served.repos, "team/big")
	size := dirSize(b, filepath.Join(big, "objects/pack"))
	n := 0
	clone := func(url string) func() *exec.Cmd {
		return func() *exec.Cmd {
			n++
			dst := filepath.Join(v.home, fmt.Sprintf("clone-%d", n))
			os.RemoveAll(dst)
			c := v.git("clone", "-q", "--bare", url, dst)()
			return c
		}
	}
	vs := []*variant{
		{name: "openssh", cmd: clone("root@opensshd:team/big.git")},
		{name: "serve", cmd: clone("gitsrv:team/big.git")},
	}
	alternate(b, vs)
	for _, x := range vs {
		b.ReportMetric(float64(size)/1e6/median(x.took).Seconds(), x.name+"-MB/s")
	}
	b.ReportMetric(float64(size)/1e6, "repo-MB")
}

func dirSize(b *testing.B, dir string) int64 {
	var n int64
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// BenchmarkServeConcurrentClones runs 200 clones at once from one host
// against serve, and reports failures (want 0) and the wall time.
//
//	go test ./internal/e2e -run XXX -bench ServeConcurrentClones -benchtime 1x
func BenchmarkServeConcurrentClones(b *testing.B) {
	s := newServed(b, "")
	alice := s.client("alice", true)
	s.repo("team/app")
	s.start()
	seedRefs(b, filepath.Join(s.repos, "team/app.git"), 5)
	const n = 200
	failures := 0
	for i := 0; i < b.N; i++ {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for j := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dst := filepath.Join(alice.home, fmt.Sprintf("c%d-%d", i, j))
				if out, err := alice.git(alice.home, "clone", "-q", "gitsrv:team/app.git", dst); err != nil {
					mu.Lock()
					failures++
					if failures < 4 {
						b.Logf("clone %d: %v: %s", j, err, out)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(failures), "failures")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/200-clones")
}

// BenchmarkServeIdleMemory opens idle connections to serve, unauthenticated
// (version exchange done, then silent) and authenticated (x/crypto client,
// no session), and reports serve's resident memory per connection.
//
//	go test ./internal/e2e -run XXX -bench ServeIdleMemory -benchtime 1x
func BenchmarkServeIdleMemory(b *testing.B) {
	const n = 500
	s := newServed(b, fmt.Sprintf("max_startups = %d\nper_source_max_startups = %d\n", n+10, n+10))
	alice := s.client("alice", true)
	s.start()
	pid := s.cmd.Process.Pid
	time.Sleep(200 * time.Millisecond)
	base := rssKB(b, pid)
	var conns []interface{ Close() error }
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c := dialRaw(b, s.addr())
		conns = append(conns, c)
	}
	time.Sleep(300 * time.Millisecond)
	unauth := rssKB(b, pid)
	signer := loadSigner(b, alice.key)
	cfg := &ssh.ClientConfig{User: "git", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second}
	for range n {
		c, err := ssh.Dial("tcp", s.addr(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
	}
	time.Sleep(300 * time.Millisecond)
	auth := rssKB(b, pid)
	b.ReportMetric(float64(unauth-base)/n, "KB/unauth-conn")
	b.ReportMetric(float64(auth-unauth)/n, "KB/auth-conn")
	b.ReportMetric(float64(base)/1024, "base-MB")
}

func rssKB(b *testing.B, pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(line)[1])
			return n
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// dialRaw opens a TCP connection and sends the SSH version line, then
// stays silent: a client stuck before key exchange.
func dialRaw(b *testing.B, addr string) net.Conn {
	b.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.WriteString(c, "SSH-2.0-idle\r\n"); err != nil {
		b.Fatal(err)
	}
	return c
}

func loadSigner(b *testing.B, path string) ssh.Signer {
	b.Helper()
	pem, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		b.Fatal(err)
	}
	return s
}
