package maintain

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunAfterKill kills maintenance (a separate process, with its git)
// with SIGKILL at each of the points where git has a lock or a
// temporary file open, reached by watching for that file (inotify), not
// by waiting: the repository is still whole (fsck, refs, a clone), and
// the next run succeeds, packs everything and leaves no lock, gc.pid or
// temporary file behind. Before the next run removed what a dead run
// left, a multi-pack-index.lock failed every later geometric repack, a
// commit-graph-chain.lock every later commit-graph, a gc.pid naming the
// killed gc (a zombie, where nothing reaps it) every gc, and the
// half-written packs stayed.
func TestRunAfterKill(t *testing.T) {
	git := lookGit(t)
	for _, tc := range []struct {
		name, dir, prefix string // kill when a file named prefix* appears in dir
		force             bool
	}{
		{"packing loose objects", "objects/pack", "tmp_pack_", false},
		{"installing the new pack", "objects/pack", ".tmp-", false},
		{"writing the multi-pack index", "objects/pack", "multi-pack-index.lock", false},
		{"writing the commit-graph", "objects/info/commit-graphs", "commit-graph-chain.lock", false},
		{"full gc", "objects/pack", "tmp_pack_", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var repo, refs string
			left := ""
			// The kill lands after git made the file, and mostly before
			// it renames or removes it (git runs at nice 10, the watcher
			// at 0; .tmp-* lives for milliseconds): else again.
			for attempt := 1; left == "" && attempt <= 5; attempt++ {
				repo, refs = bigRepo(t)
				left = killAt(t, repo, tc.dir, tc.prefix, tc.force)
				if left == "" {
					t.Logf("attempt %d: %s* was gone by the time the kill landed", attempt, tc.prefix)
				}
			}
			if left == "" {
				t.Fatalf("no kill landed while %s* existed", tc.prefix)
			}
			t.Logf("the kill left %v", leftovers(t, repo))
			checkValid(t, repo, refs)
			run(t, filepath.Dir(repo), "clone", "-q", "--no-local", "--bare", repo, filepath.Join(filepath.Dir(repo), "clone.git"))

			o := testOptions(git)
			o.Force = tc.force
			res, err := Run(context.Background(), "r", repo, o)
			if err != nil {
				t.Fatalf("the run after the kill: %v", err)
			}
			t.Logf("the next run removed %v and ran %v", res.Removed, res.Tasks)
			if !slices.Contains(res.Removed, left) {
				t.Errorf("the next run removed %v, not %s", res.Removed, left)
			}
			if res.After.Loose != 0 || res.After.Packs > 3 {
				t.Errorf("after the next run (tasks %v): %+v", res.Tasks, res.After)
			}
			if l := leftovers(t, repo); len(l) > 0 {
				t.Errorf("left after the next run: %v", l)
			}
			checkValid(t, repo, refs)
		})
	}
}

// killAt runs maintenance of repo in a process group of its own and
// kills the group with SIGKILL as soon as a file named prefix* appears
// in repo's dir. It waits for every process of the group to be gone and
// returns such a file still there, relative to repo ("" if none is).
func killAt(t *testing.T, repo, dir, prefix string, force bool) string {
	t.Helper()
	dir = filepath.Join(repo, dir)
	if err := os.MkdirAll(dir, 0o755); err != nil { // objects/info/commit-graphs comes with the first graph
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+repo)
	if force {
		cmd.Env = append(cmd.Env, childForce+"=1")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	pid := make(chan int, 1)
	seen := watch(t, dir, prefix, func() { syscall.Kill(-<-pid, syscall.SIGKILL) })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid <- cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := <-exited; !isClosed(seen) {
		t.Fatalf("maintenance ended (%v) without making %s*:\n%s", err, prefix, out.String())
	}
	waitGroupGone(t, cmd.Process.Pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			rel, _ := filepath.Rel(repo, filepath.Join(dir, e.Name()))
			return rel
		}
	}
	return ""
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// watch closes the channel it returns, then calls kill, when a file
// whose name starts with prefix is created in dir or renamed into it.
func watch(t *testing.T, dir, prefix string, kill func()) <-chan struct{} {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "inotify") // non-blocking: Close ends a Read
	t.Cleanup(func() { f.Close() })
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_CREATE|syscall.IN_MOVED_TO); err != nil {
		t.Fatal(err)
	}
	seen := make(chan struct{})
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := f.Read(buf)
			if err != nil {
				return
			}
			// struct inotify_event: wd, mask, cookie, len, then the name.
			for off := 0; off+syscall.SizeofInotifyEvent <= n; {
				l := int(binary.NativeEndian.Uint32(buf[off+12:]))
				name := strings.TrimRight(string(buf[off+syscall.SizeofInotifyEvent:off+syscall.SizeofInotifyEvent+l]), "\x00")
				if strings.HasPrefix(name, prefix) {
					close(seen) // first: the child's exit is then after it
					kill()
					return
				}
				off += syscall.SizeofInotifyEvent + l
			}
		}
	}()
	return seen
}

// waitGroupGone polls /proc until no live process is in process group
// pgid (a killed git, orphaned, may still be on its way out).
func waitGroupGone(t *testing.T, pgid int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for groupAlive(pgid) {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still has live processes", pgid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func groupAlive(pgid int) bool {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so after the last ')'.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 2 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			return true
		}
	}
	return false
}
