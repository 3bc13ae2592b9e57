package maintain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Options says how to run the tasks.
type Options struct {
	Git     string        // absolute path of git
	Env     []string      // git's environment
	Timeout time.Duration // per repository; 0 means none
	Force   bool          // a full gc whatever the state
	DryRun  bool          // decide, run nothing
	Now     func() time.Time

	uid, gid int // the repository's owner, as root; else -1
}

// OwnerOf is who owns path, when this process runs as root and path is
// not its own; else -1, -1 (nothing to change).
func OwnerOf(path string) (uid, gid int) {
	if os.Geteuid() != 0 {
		return -1, -1
	}
	fi, err := os.Stat(path)
	if err != nil {
		return -1, -1
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return -1, -1
	}
	return int(st.Uid), int(st.Gid)
}

// Result is what Run did for one repository.
type Result struct {
	Before, After State
	Tasks         []Task
	Removed       []string // what a dead run left, removed first (relative to the repository)
	Busy          bool     // another maintenance holds the repository
	Duration      time.Duration
}

// ErrBusy is Run's answer when the repository is being maintained by
// another run (on this host or another sharing the storage).
var ErrBusy = errors.New("maintain: the repository is being maintained by another run")

// Run maintains the repository named name at dir: removeStale (what a
// killed run left), Inspect, Decide, the tasks in order, then the record
// of the run. It holds the repository's lock file (flock) throughout, so
// runs on hosts sharing the storage never overlap on one repository; a
// held lock is ErrBusy at once, and so is a killed run's git still at
// work in the repository.
func Run(ctx context.Context, name, dir string, o Options) (Result, error) {
	start := o.Now()
	var res Result
	// As root, git runs as the repository's owner (the ssh user), so
	// that every file it writes stays theirs.
	o.uid, o.gid = OwnerOf(dir)
	unlock, err := lockRepo(dir, o.uid, o.gid)
	if err != nil {
		return res, err
	}
	defer unlock()
	if !o.DryRun {
		if res.Removed, err = removeStale(dir, start); err != nil {
			return res, err
		}
	}
	if res.Before, err = Inspect(dir); err != nil {
		return res, err
	}
	res.Tasks = Decide(name, res.Before, start, o.Force)
	if len(res.Tasks) == 0 || o.DryRun {
		res.After = res.Before
		return res, nil
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	rec := record{Last: start, LastFull: res.Before.LastFull}
	for _, t := range res.Tasks {
		if err := runTask(ctx, dir, t, o); err != nil {
			return res, fmt.Errorf("maintain: %s: %s: %w", name, t, err)
		}
		if t == FullGC {
			rec.LastFull = start
		}
	}
	if err := writeRecord(dir, rec, o.uid, o.gid); err != nil {
		return res, err
	}
	res.After, err = Inspect(dir)
	res.Duration = o.Now().Sub(start)
	return res, err
}

// argv is each task's git command lines.
func argv(t Task) [][]string {
	switch t {
	case GitAutoOff:
		// gitserver maintains it now: no push pays for gc --auto.
		return [][]string{{"config", "gc.auto", "0"}, {"config", "maintenance.auto", "false"}, {"config", "receive.autogc", "false"}}
	case PackLoose:
		return [][]string{{"repack", "-d", "-q"}}
	case Geometric:
		return [][]string{{"repack", "-d", "-q", "--geometric=2", "--write-midx", "--write-bitmap-index"}}
	case CommitGraph:
		return [][]string{{"commit-graph", "write", "--reachable", "--split", "--changed-paths"}}
	case PackRefs:
		return [][]string{{"pack-refs", "--all", "--prune"}}
	case FullGC:
		return [][]string{{"gc", "--quiet"}} // default expiry: never --prune=now
	}
	return nil
}

func runTask(ctx context.Context, dir string, t Task, o Options) error {
	for _, args := range argv(t) {
		cmd := exec.CommandContext(ctx, o.Git, append([]string{"--git-dir=" + dir}, args...)...)
		cmd.Env = o.Env
		cmd.SysProcAttr = procAttr(o.uid, o.gid)
		if out, err := cmd.CombinedOutput(); err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// A run killed with SIGKILL (OOM, a serve killed -9) leaves its git's
// lock and temporary files, and git never removes another process's:
// a multi-pack-index.lock fails every later geometric repack, a
// commit-graph-chain.lock every commit-graph, a gc.pid every gc (while
// its pid is a zombie or reused), and half-written packs take space
// forever. removeStale, under the repository's flock, removes them in
// two classes.
//
// maintenanceOnly are written by maintenance's git only: a push writes
// its pack and objects in its quarantine (objects/tmp_objdir-incoming-*,
// git's to prune), and git's own gc --auto is off where gitserver
// maintains (the first run's first task; before it, a push's gc --auto
// running at that moment would lose its files, and fail). The flock says
// no run of ours is at work, but a killed run's git may still be
// (repack's children outlive it, as orphans), which gitRunsIn tells:
// then the run is ErrBusy. Else these go whatever their age.
//
// sharedLocks, and lock files under refs/, may also be a push's (a ref
// update, packed-refs when a ref is deleted, pack-refs') or an admin
// command's (config): git holds them for milliseconds, but no flock says
// whose they are, so they go only once unwritten for staleAge.
var (
	maintenanceOnly = []string{
		"gc.pid", // git gc; this host's only (another host's gc cannot be seen; git ignores it after 12 hours)
		"objects/pack/multi-pack-index.lock",
		"objects/pack/tmp_*",             // pack-objects' pack, index, bitmap being written
		"objects/pack/.tmp-*",            // repack's new pack, not yet in place
		"objects/bitmap-ref-tips_*",      // repack's refs snapshot for the bitmap
		"objects/info/commit-graph.lock", // gc's commit-graph
		"objects/info/commit-graphs/commit-graph-chain.lock",
		"objects/info/commit-graphs/tmp_graph_*",
	}
	sharedLocks = []string{"packed-refs.lock", "config.lock", "HEAD.lock"}
)

// staleAge is how long a shared lock must have gone unwritten to be a
// dead process's.
const staleAge = time.Hour

// removeStale removes what a dead run left in the repository at dir
// (see maintenanceOnly) and returns it, relative to dir.
func removeStale(dir string, now time.Time) ([]string, error) {
	var stale []string
	for _, pat := range maintenanceOnly {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		stale = append(stale, m...)
	}
	stale = slices.DeleteFunc(stale, func(p string) bool { return filepath.Base(p) == "gc.pid" && !thisHost(p) })
	if len(stale) > 0 && gitRunsIn(dir) {
		return nil, ErrBusy
	}
	stale = append(stale, oldLocks(dir, now)...)
	var removed []string
	for _, p := range stale {
		rel, _ := filepath.Rel(dir, p)
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("maintain: remove %s, left by a dead process: %w", rel, err)
		}
		removed = append(removed, rel)
	}
	return removed, nil
}

// oldLocks are the sharedLocks and refs/**/*.lock in dir unwritten for
// staleAge.
func oldLocks(dir string, now time.Time) []string {
	var old []string
	add := func(p string) {
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && now.Sub(fi.ModTime()) >= staleAge {
			old = append(old, p)
		}
	}
	for _, name := range sharedLocks {
		add(filepath.Join(dir, name))
	}
	_ = filepath.WalkDir(filepath.Join(dir, "refs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".lock") {
			add(p)
		}
		return nil
	})
	return old
}

// thisHost: the gc.pid at path ("PID HOST") is this host's.
func thisHost(path string) bool {
	b, err := os.ReadFile(path)
	host, herr := os.Hostname()
	f := strings.Fields(string(b))
	return err == nil && herr == nil && len(f) == 2 && f[1] == host
}

// gitRunsIn: a live process has GIT_DIR=dir, as the children of every
// git that Run starts have (git --git-dir sets it for them; the git
// itself dies with the run, procAttr). It reads /proc, so it answers
// false where there is none, and sees only the processes it may read
// (this user's; all, as root).
func gitRunsIn(dir string) bool {
	want := []byte("\x00GIT_DIR=" + dir + "\x00")
	envs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, p := range envs {
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(append([]byte{0}, b...), want) {
			return true
		}
	}
	return false
}

// lockRepo takes the repository's maintenance lock, or ErrBusy. The
// lock file is given to uid and gid, when not below zero, so that a run
// as the ssh user can take it after one as root.
func lockRepo(dir string, uid, gid int) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, "gitserver-maintenance.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if uid >= 0 && gid >= 0 {
		if err := f.Chown(uid, gid); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrBusy
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}

// LockHost takes the host's lock, path, so that one repository at a time
// is maintained here; it waits when wait is set, else a held lock is
// ErrBusy.
func LockHost(path string, wait bool, uid, gid int) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if uid >= 0 && gid >= 0 {
		if err := f.Chown(uid, gid); err != nil {
			f.Close()
			return nil, err
		}
	}
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("maintain: another 'gitserver maintain' runs on this host (%s)", path)
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}
