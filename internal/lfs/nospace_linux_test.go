package lfs

import (
	"bytes"
	"os"
	"syscall"
	"testing"
)

// TestDiskFull uploads an object larger than a small tmpfs: the client
// gets 507, and neither the object nor its temporary file stays. It
// mounts the tmpfs, so it needs root (CI runs as root and must run it).
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must run this test as root (it mounts a tmpfs)")
		}
		t.Skip("needs root to mount a tmpfs")
	}
	repo := t.TempDir()
	err := syscall.Mount("tmpfs", repo, "tmpfs", 0, "size=256k")
	if err == syscall.EPERM {
		t.Skip("root without CAP_SYS_ADMIN (a container) cannot mount a tmpfs")
	}
	if err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(repo, 0) })
	data := bytes.Repeat([]byte("full "), 200000) // 1 MB
	oid := oidOf(data)
	c := startSession(t, repo, Upload, "alice", false)
	c.sess.MaxObjectSize = 10 << 20
	c.version()
	if got := c.put(oid, len(data), data); status(got) != "status 507" {
		t.Fatalf("put-object on a full disk = %q, want status 507", got)
	}
	if _, err := os.Stat(NewObjects(repo).Path(oid)); err == nil {
		t.Fatal("object stored on a full disk")
	}
	noTemps(t, repo)
	// The session goes on: a small object still fits.
	small := []byte("small")
	if got := c.put(oidOf(small), len(small), small); status(got) != "status 200" {
		t.Fatalf("small put after a full disk = %q", got)
	}
	c.quit()
}
