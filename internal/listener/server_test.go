package listener

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"

	"github.com/gitserver/gitserver/shim"
)

// fakeDriver knows keys by fingerprint and allows nothing.
type fakeDriver map[string]string

func (d fakeDriver) Authenticate(_ context.Context, c shim.Credentials) (string, error) {
	if u, ok := d[c.Fingerprint]; ok {
		return u, nil
	}
	return "", shim.ErrUnknownKey
}
func (d fakeDriver) GetUserModel(context.Context, string) (shim.UserModel, error) { return nil, nil }
func (d fakeDriver) Authorize(context.Context, shim.UserModel, string, string) (shim.Decision, error) {
	return shim.Decision{Rule: "fake"}, nil
}
func (d fakeDriver) RepoPath(context.Context, string) (string, error) {
	return "", errors.New("no repos")
}

func newSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testLimits() Limits {
	return Limits{LoginGraceTime: 5 * time.Second, MaxAuthTries: 6, MaxStartups: 10, PerSourceMaxStartups: 5, IdleTimeout: time.Minute, MaxChannels: 2}
}

// startServer serves d on a loopback port and returns its address.
func startServer(t *testing.T, d shim.Driver, lim Limits) (string, *Server) {
	t.Helper()
	addr, s, _ := startServerLog(t, d, lim)
	return addr, s
}

// startServerLog is startServer that also returns the server's log.
func startServerLog(t *testing.T, d shim.Driver, lim Limits) (string, *Server, *logBuffer) {
	t.Helper()
	return startObserved(t, d, lim, nil)
}

// startObserved is startServerLog with an Observer.
func startObserved(t *testing.T, d shim.Driver, lim Limits, obs Observer) (string, *Server, *logBuffer) {
	t.Helper()
	hks, err := LoadHostKeys([]string{filepath.Join(t.TempDir(), "hostkey")})
	if err != nil {
		t.Fatal(err)
	}
	logBuf := &logBuffer{}
	log := hclog.New(&hclog.LoggerOptions{Output: logBuf, Level: hclog.Debug})
	s, err := New(log, &Setup{SSHUser: "git", Shim: &shim.Shim{Driver: d, Root: t.TempDir(), Git: "/usr/bin/git", Home: t.TempDir()}, HostKeys: hks, Limits: lim, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if t.Failed() {
			t.Logf("server log:\n%s", logBuf.String())
		}
	})
	return l.Addr().String(), s, logBuf
}

func dial(t *testing.T, addr, user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	t.Helper()
	return ssh.Dial("tcp", addr, &ssh.ClientConfig{User: user, Auth: auth, HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
}

// greeting opens a shell and returns what it printed on stderr.
func greeting(t *testing.T, c *ssh.Client) string {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var stderr bytes.Buffer
	sess.Stderr = &stderr
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	err = sess.Wait()
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 1 {
		t.Fatalf("shell ended with %v, want exit status 1", err)
	}
	return stderr.String()
}

// impostor offers victim's public key but signs with its own private key:
// the server accepts the offer, then rejects the signature.
type impostor struct {
	victim ssh.PublicKey
	own    ssh.Signer
}

func (s impostor) PublicKey() ssh.PublicKey { return s.victim }
func (s impostor) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	return s.own.Sign(r, data)
}

// TestOfferedKeyIsNotIdentity is a CVE-2024-45337 regression test: the
// server accepts the offer of the victim's key (the callback runs for
// it), then the client signs with another key. x/crypto's client cannot
// offer a key without signing, so here the signature is wrong and the
// connection must fail; cmd/gitserver's TestServeOfferedKeyIsNotIdentity
// does the offer-then-own-key dance with OpenSSH. Then the callback is
// called for the victim and mallory in turn, as for one connection, and
// must not let the first answer leak into the second.
func TestOfferedKeyIsNotIdentity(t *testing.T) {
	victim, mallory := newSigner(t), newSigner(t)
	d := fakeDriver{ssh.FingerprintSHA256(victim.PublicKey()): "admin", ssh.FingerprintSHA256(mallory.PublicKey()): "mallory"}
	addr, _ := startServer(t, d, testLimits())

	if c, err := dial(t, addr, "git", ssh.PublicKeys(impostor{victim.PublicKey(), mallory}, mallory)); err == nil {
		g := greeting(t, c)
		c.Close()
		if !strings.Contains(g, "Hi mallory!") {
			t.Fatalf("after offering admin's key, mallory is greeted as: %q", g)
		}
	}
	c, err := dial(t, addr, "git", ssh.PublicKeys(mallory))
	if err != nil {
		t.Fatalf("mallory's own key refused: %v", err)
	}
	defer c.Close()
	if g := greeting(t, c); !strings.Contains(g, "Hi mallory!") {
		t.Fatalf("mallory greeted as: %q", g)
	}

	cb := publicKeyCallback("git", d, hclog.NewNullLogger(), nopObserver{})
	meta := fakeMeta{}
	pv, err := cb(meta, victim.PublicKey())
	if err != nil || pv.Extensions[ExtUser] != "admin" {
		t.Fatalf("callback(victim) = %v, %v", pv, err)
	}
	pm, err := cb(meta, mallory.PublicKey())
	if err != nil || pm.Extensions[ExtUser] != "mallory" || pm.Extensions[ExtKey] != ssh.FingerprintSHA256(mallory.PublicKey()) {
		t.Fatalf("callback(mallory) after callback(victim) = %v, %v", pm, err)
	}
	if _, err := verifiedPublicKey(meta, mallory.PublicKey(), pv, ssh.KeyAlgoED25519); err == nil {
		t.Fatal("verifiedPublicKey accepted the victim's permissions for mallory's key")
	}
}

type fakeMeta struct{ ssh.ConnMetadata }

func (fakeMeta) User() string         { return "git" }
func (fakeMeta) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

func TestLoginNameAndUnknownKeyRefused(t *testing.T) {
	alice, stranger := newSigner(t), newSigner(t)
	addr, _ := startServer(t, fakeDriver{ssh.FingerprintSHA256(alice.PublicKey()): "alice"}, testLimits())
	if c, err := dial(t, addr, "root", ssh.PublicKeys(alice)); err == nil {
		c.Close()
		t.Fatal("login name root accepted")
	}
	if c, err := dial(t, addr, "git", ssh.PublicKeys(stranger)); err == nil {
		c.Close()
		t.Fatal("unknown key accepted")
	}
	if c, err := dial(t, addr, "git", ssh.Password("x"), ssh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return nil, nil })); err == nil {
		c.Close()
		t.Fatal("password or keyboard-interactive accepted")
	}
	c, err := dial(t, addr, "git", ssh.PublicKeys(alice))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// TestAlgorithms reads the server's KEXINIT: strict kex is on, and
// nothing SHA-1, NIST-ECDH or CBC is offered.
func TestAlgorithms(t *testing.T) {
	addr, _ := startServer(t, fakeDriver{}, testLimits())
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(nc, "SSH-2.0-probe\r\n")
	br := bufio.NewReader(nc)
	version, _ := br.ReadString('\n')
	if !strings.HasPrefix(version, ServerVersion) {
		t.Fatalf("version line %q", version)
	}
	buf := make([]byte, 4096)
	n, _ := io.ReadAtLeast(br, buf, 200)
	kexinit := string(buf[:n])
	for _, want := range []string{"kex-strict-s-v00@openssh.com", "curve25519-sha256", "mlkem768x25519-sha256", "ssh-ed25519", "chacha20-poly1305@openssh.com", "hmac-sha2-256-etm@openssh.com"} {
		if !strings.Contains(kexinit, want) {
			t.Errorf("KEXINIT lacks %s", want)
		}
	}
	for _, bad := range []string{"ecdh-sha2-nistp", "group14-sha1", "group1-sha1", "ssh-rsa", "hmac-sha1", "-cbc", "arcfour", "hmac-sha2-256,", "ssh-dss"} {
		if strings.Contains(kexinit, bad) {
			t.Errorf("KEXINIT offers %s", bad)
		}
	}
}

func TestForwardingAndPTYRefused(t *testing.T) {
	alice := newSigner(t)
	addr, _ := startServer(t, fakeDriver{ssh.FingerprintSHA256(alice.PublicKey()): "alice"}, testLimits())
	c, err := dial(t, addr, "git", ssh.PublicKeys(alice))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Dial("tcp", "127.0.0.1:22"); err == nil || !strings.Contains(err.Error(), "prohibited") {
		t.Errorf("direct-tcpip: %v, want administratively prohibited", err)
	}
	if ok, _, err := c.SendRequest("tcpip-forward", true, ssh.Marshal(struct {
		Addr string
		Port uint32
	}{"127.0.0.1", 0})); ok || err != nil {
		t.Errorf("tcpip-forward: ok=%v err=%v, want refused", ok, err)
	}
	if ok, _, _ := c.SendRequest("keepalive@openssh.com", true, nil); ok {
		t.Error("keepalive answered true")
	}
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm", 24, 80, nil); err == nil {
		t.Error("pty-req accepted")
	}
	if err := sess.RequestSubsystem("sftp"); err == nil {
		t.Error("subsystem accepted")
	}
	sess.Close()
	// MaxChannels is 2: a third open session is refused.
	s1, err1 := c.NewSession()
	s2, err2 := c.NewSession()
	_, err3 := c.NewSession()
	if err1 != nil || err2 != nil || err3 == nil {
		t.Errorf("sessions: %v, %v, %v; want the third refused", err1, err2, err3)
	}
	if s1 != nil {
		s1.Close()
	}
	if s2 != nil {
		s2.Close()
	}
}

func TestLoginGraceAndIdleTimeout(t *testing.T) {
	alice := newSigner(t)
	lim := testLimits()
	lim.LoginGraceTime = 300 * time.Millisecond
	lim.IdleTimeout = 400 * time.Millisecond
	addr, _ := startServer(t, fakeDriver{ssh.FingerprintSHA256(alice.PublicKey()): "alice"}, lim)

	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = io.Copy(io.Discard, nc)
	if err != nil || time.Since(start) > 3*time.Second {
		t.Fatalf("silent connection not closed after the login grace time: %v after %v", err, time.Since(start))
	}

	c, err := dial(t, addr, "git", ssh.PublicKeys(alice))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("idle authenticated connection not closed after the idle timeout")
	}
}

// TestKeepaliveIsNotActivity: a connection with no session open is closed
// after the idle timeout however many keepalives the client sends (as
// ServerAliveInterval and a ControlPersist master do); one with a session
// open is not, however quiet it is.
func TestKeepaliveIsNotActivity(t *testing.T) {
	alice := newSigner(t)
	d := fakeDriver{ssh.FingerprintSHA256(alice.PublicKey()): "alice"}
	lim := testLimits()
	lim.IdleTimeout = 300 * time.Millisecond
	hks, err := LoadHostKeys([]string{filepath.Join(t.TempDir(), "hostkey")})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	addr, s := startServer(t, d, lim)
	holdOpen := func(_ context.Context, c shim.BuiltinCall) (int, error) {
		started <- struct{}{}
		<-release
		return 0, nil
	}
	if err := s.Reload(&Setup{SSHUser: "git", Shim: &shim.Shim{Driver: d, Root: t.TempDir(), Git: "/usr/bin/git", Home: t.TempDir(), Builtin: holdOpen}, HostKeys: hks, Limits: lim}); err != nil {
		t.Fatal(err)
	}
	keepalive := func(c *ssh.Client, stop <-chan struct{}) <-chan error {
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		go func() {
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, _, err := c.SendRequest("keepalive@openssh.com", true, nil); err != nil {
						return
					}
				}
			}
		}()
		return done
	}

	c, err := dial(t, addr, "git", ssh.PublicKeys(alice))
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	select {
	case <-keepalive(c, stop):
	case <-time.After(5 * time.Second):
		t.Fatal("a connection with no session, kept busy by keepalives, was not closed after the idle timeout")
	}

	c2, err := dial(t, addr, "git", ssh.PublicKeys(alice))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	closed := keepalive(c2, stop)
	sess, err := c2.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start("help"); err != nil {
		t.Fatal(err)
	}
	<-started
	select {
	case err := <-closed:
		t.Fatalf("a connection with a session open was closed: %v", err)
	case <-time.After(4 * lim.IdleTimeout):
	}
	close(release)
	if err := sess.Wait(); err != nil {
		t.Errorf("held session: %v", err)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("connection not closed after its last session ended and the idle timeout passed")
	}
}

// logBuffer is a log output safe to read while the server writes.
type logBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // closed (and replaced) at every Write
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.written != nil {
		close(l.written)
		l.written = nil
	}
	return l.b.Write(p)
}

// waitFor returns the log once it holds n lines containing s. It fails
// the test when that takes more than 10s: the server is stuck.
func (l *logBuffer) waitFor(t *testing.T, s string, n int) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		l.mu.Lock()
		log := l.b.String()
		if l.written == nil {
			l.written = make(chan struct{})
		}
		written := l.written
		l.mu.Unlock()
		if strings.Count(log, s) >= n {
			return log
		}
		select {
		case <-written:
		case <-timeout:
			t.Fatalf("after 10s the log has %d lines with %q, want %d:\n%s", strings.Count(log, s), s, n, log)
		}
	}
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
