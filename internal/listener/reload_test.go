package listener

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gitserver/gitserver/shim"
)

// TestReloadClosesOldSetupAfterItsLastConnection: a setup replaced by
// Reload is closed only once the connections that started with it have
// ended, and the current one is closed by Shutdown.
func TestReloadClosesOldSetupAfterItsLastConnection(t *testing.T) {
	user := newSigner(t)
	d := fakeDriver{ssh.FingerprintSHA256(user.PublicKey()): "alice"}
	addr, s := startServer(t, d, testLimits())
	hks, err := LoadHostKeys([]string{filepath.Join(t.TempDir(), "hostkey")})
	if err != nil {
		t.Fatal(err)
	}
	var closed [2]atomic.Int32
	setup := func(i int) *Setup {
		return &Setup{SSHUser: "git", Shim: &shim.Shim{Driver: d, Root: t.TempDir(), Git: "/usr/bin/git", Home: t.TempDir()},
			HostKeys: hks, Limits: testLimits(), Close: func() { closed[i].Add(1) }}
	}
	if err := s.Reload(setup(0)); err != nil {
		t.Fatal(err)
	}
	c, err := dial(t, addr, "git", ssh.PublicKeys(user))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(setup(1)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := closed[0].Load(); n != 0 {
		t.Fatalf("setup 0 closed %d times while a connection still uses it", n)
	}
	c.Close()
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
