package listener

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gitserver/gitserver/shim"
)

// TestReloadServesOpenConnections: after Reload, the next session on a
// connection opened before runs with the new setup (a policy or driver
// change bites at once, not at the client's next login); a session
// already running finishes with the old one, which is closed once no
// session uses it; Shutdown closes the current one.
func TestReloadServesOpenConnections(t *testing.T) {
	user := newSigner(t)
	d := fakeDriver{ssh.FingerprintSHA256(user.PublicKey()): "alice"}
	addr, s := startServer(t, d, testLimits())
	hks, err := LoadHostKeys([]string{filepath.Join(t.TempDir(), "hostkey")})
	if err != nil {
		t.Fatal(err)
	}
	var closed [2]atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	setup := func(i int) *Setup {
		// Each setup answers "whoami" with its number; "help" waits
		// for release, to hold a session open.
		builtin := func(_ context.Context, c shim.BuiltinCall) (int, error) {
			if c.Cmd.Name == shim.BuiltinHelp {
				started <- struct{}{}
				<-release
			}
			fmt.Fprintf(c.Stdout, "setup %d", i)
			return 0, nil
		}
		return &Setup{SSHUser: "git", Shim: &shim.Shim{Driver: d, Root: t.TempDir(), Git: "/usr/bin/git", Home: t.TempDir(), Builtin: builtin},
			HostKeys: hks, Limits: testLimits(), Close: func() { closed[i].Add(1) }}
	}
	if err := s.Reload(setup(0)); err != nil {
		t.Fatal(err)
	}
	c, err := dial(t, addr, "git", ssh.PublicKeys(user))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if out := output(t, c, "whoami"); out != "setup 0" {
		t.Fatalf("whoami = %q, want setup 0", out)
	}
	held := make(chan string)
	go func() { held <- output(t, c, "help") }()
	<-started
	if err := s.Reload(setup(1)); err != nil {
		t.Fatal(err)
	}
	if out := output(t, c, "whoami"); out != "setup 1" {
		t.Errorf("after Reload, whoami on the open connection = %q, want setup 1", out)
	}
	if n := closed[0].Load(); n != 0 {
		t.Fatalf("setup 0 closed %d times while a session still runs with it", n)
	}
	close(release)
	if out := <-held; out != "setup 0" {
		t.Errorf("the session running through Reload = %q, want setup 0", out)
	}
	waitUntil(t, func() bool { return closed[0].Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Shutdown(ctx)
	waitUntil(t, func() bool { return closed[1].Load() == 1 })
	if closed[0].Load() != 1 {
		t.Errorf("setup 0 closed %d times, want 1", closed[0].Load())
	}
	if _, err := dial(t, addr, "git", ssh.PublicKeys(user)); err == nil {
		t.Error("connected after Shutdown")
	}
}

// output runs command in a new session on c and returns its stdout.
func output(t *testing.T, c *ssh.Client, command string) string {
	sess, err := c.NewSession()
	if err != nil {
		t.Error(err)
		return ""
	}
	defer sess.Close()
	out, err := sess.Output(command)
	if err != nil {
		t.Errorf("%s: %v", command, err)
	}
	return string(out)
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
