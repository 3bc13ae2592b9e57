// Package sshdtest runs a real OpenSSH sshd for tests: its own host key,
// config and free loopback port, with its log in the test output when the
// test fails. With CI set, a missing sshd or a non-root run fails the test
// instead of skipping it.
//
// The keys it generates are for tests only; never use them elsewhere.
package sshdtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Need skips (or, with CI set, fails) a test that cannot run sshd here:
// it needs the sshd binary and root.
func Need(t testing.TB) string {
	t.Helper()
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		for _, p := range []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd"} {
			if _, e := os.Stat(p); e == nil {
				sshd, err = p, nil
				break
			}
		}
	}
	why := ""
	switch {
	case err != nil:
		why = "sshd not found (apt-get install openssh-server)"
	case os.Geteuid() != 0:
		why = "sshd tests run as root (sshd must switch users and check AuthorizedKeysCommand ownership)"
	}
	if why != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %s", why)
		}
		t.Skip(why)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("privilege separation directory: %v", err)
	}
	return sshd
}

// InstallBinary copies the file at src into a fresh root-owned 0755
// directory outside /tmp, where sshd accepts it as AuthorizedKeysCommand,
// and returns its path. Files named in also are copied from src's
// directory into the same directory (a program and the helpers it runs
// from beside itself). The directory is removed after the test.
func InstallBinary(t testing.TB, src, name string, also ...string) string {
	t.Helper()
	base := "/usr/local/libexec"
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(base, "gitserver-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile := func(src, dst string) {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range also {
		copyFile(filepath.Join(filepath.Dir(src), a), filepath.Join(dir, a))
	}
	dst := filepath.Join(dir, name)
	copyFile(src, dst)
	return dst
}

// Server is an sshd: configured by Configure, running after Run (or
// Start, which does both).
type Server struct {
	Addr    string // 127.0.0.1:PORT
	Port    int
	HostKey string // public host key line, for known_hosts
	Config  string // sshd_config path
	sshd    string
	log     *SyncBuffer
	cmd     *exec.Cmd
}

// Start runs sshd -D -e -f with the given config body; Start adds Port,
// ListenAddress, HostKey and PidFile. The server stops when the test ends.
func Start(t testing.TB, body string) *Server {
	t.Helper()
	s := Configure(t, body)
	if out, err := exec.Command(s.sshd, "-t", "-f", s.Config).CombinedOutput(); err != nil {
		full, _ := os.ReadFile(s.Config)
		t.Fatalf("sshd -t rejects the config: %v\n%s\n%s", err, out, full)
	}
	s.Run(t)
	return s
}

// Configure writes Start's config (body after Port, ListenAddress,
// HostKey and PidFile) with a new host key and a free port, but does not
// start sshd: a test can write files the config includes, then Run it.
func Configure(t testing.TB, body string) *Server {
	t.Helper()
	sshd := Need(t)
	dir := t.TempDir()
	hostKey := filepath.Join(dir, "host_ed25519")
	Keygen(t, hostKey)
	pub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	cfg := filepath.Join(dir, "sshd_config")
	full := fmt.Sprintf("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nPidFile none\nLogLevel VERBOSE\n%s", port, hostKey, body)
	if err := os.WriteFile(cfg, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	return &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), Port: port, HostKey: strings.TrimSpace(string(pub)), Config: cfg, sshd: sshd, log: &SyncBuffer{}}
}

// Run starts sshd -D -e -f s.Config and waits until it listens. It stops
// when the test ends, and its log is shown if the test failed.
func (s *Server) Run(t testing.TB) {
	t.Helper()
	s.cmd = exec.Command(s.sshd, "-D", "-e", "-f", s.Config)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.log.String())
		}
	})
	s.waitListening(t)
}

// Log returns what sshd has logged so far.
func (s *Server) Log() string { return s.log.String() }

func (s *Server) waitListening(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", s.Addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("sshd did not listen on %s within 10s; log:\n%s", s.Addr, s.log.String())
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, p, _ := net.SplitHostPort(l.Addr().String())
	n, _ := strconv.Atoi(p)
	return n
}

// Keygen writes a new ed25519 key pair at path and path.pub with
// ssh-keygen. Test keys only.
func Keygen(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test-only", "-f", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(pub))
}

// ClientConfig writes an ssh client config that reaches s as host alias
// "gitsrv" with identity key, trusting s's host key, and returns its path.
func (s *Server) ClientConfig(t testing.TB, dir, key, user string) string {
	t.Helper()
	kh := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(kh, []byte(fmt.Sprintf("[127.0.0.1]:%d %s\n", s.Port, s.HostKey)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "ssh_config")
	body := fmt.Sprintf(`Host gitsrv
	HostName 127.0.0.1
	Port %d
	User %s
	IdentityFile %s
	IdentitiesOnly yes
	IdentityAgent none
	BatchMode yes
	UserKnownHostsFile %s
	StrictHostKeyChecking yes
	HostKeyAlias [127.0.0.1]:%d
	ConnectTimeout 10
	LogLevel ERROR
`, s.Port, user, key, kh, s.Port)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// SyncBuffer is a bytes.Buffer safe for a process's writes and the test's
// reads at the same time.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
