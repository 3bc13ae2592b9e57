package maintain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	Busy          bool // another maintenance holds the repository
	Duration      time.Duration
}

// ErrBusy is Run's answer when the repository is being maintained by
// another run (on this host or another sharing the storage).
var ErrBusy = errors.New("maintain: the repository is being maintained by another run")

// Run maintains the repository named name at dir: Inspect, Decide, the
// tasks in order, then the record of the run. It holds the repository's
// lock file (flock) throughout, so runs on hosts sharing the storage
// never overlap on one repository; a held lock is ErrBusy at once.
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
