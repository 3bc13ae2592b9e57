package shim

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gitserver/gitserver/internal/lfs"
	"github.com/hashicorp/go-hclog"
)

// LFSConfig is how Git LFS is served.
type LFSConfig struct {
	// MaxObjectSize bounds one uploaded object, in bytes; 0 means
	// lfs.DefaultMaxObjectSize.
	MaxObjectSize int64
}

// AdminChecker is implemented by a driver that knows who is an admin:
// in an LFS upload session an admin may unlock another user's lock
// (git lfs unlock --force). Without it nobody may.
type AdminChecker interface {
	IsAdmin(ctx context.Context, model UserModel) (bool, error)
}

// serveLFS runs a vetted git-lfs-transfer session in-process on stdio
// and logs one request line for it: what it moved, and how it ended.
func (s *Shim) serveLFS(ctx context.Context, log hclog.Logger, plan *Plan, stdio Stdio, start time.Time) int {
	admin := false
	if ac, ok := s.Driver.(AdminChecker); ok && plan.LFSOp == LFSUpload {
		var err error
		if admin, err = ac.IsAdmin(ctx, plan.Model); err != nil {
			log.Warn("cannot tell whether the user is an admin; forced unlocks are refused", "error", err)
			admin = false
		}
	}
	sess := &lfs.Session{Op: plan.LFSOp, User: plan.User, Admin: admin, MaxObjectSize: s.LFS.MaxObjectSize,
		Objects: lfs.NewObjects(plan.Dir), Locks: lfs.NewLocks(plan.Dir)}
	err := serveUntil(ctx, sess, stdio)
	st := sess.Stats
	args := []any{"command", LFSTransfer, "op", plan.LFSOp, "repo", plan.Name, "decision", "allow", "rule", plan.Rule,
		"objects", st.Objects, "bytes_in", st.BytesIn, "bytes_out", st.BytesOut, "locks", st.Locks, "quit", st.Quit}
	if len(sess.Failures) > 0 {
		args = append(args, "failures", fmt.Sprint(sess.Failures))
	}
	code := 0
	if err != nil {
		code = 1
		log.Warn("request", append(args, "exit", code, "duration", time.Since(start), "error", err)...)
		return code
	}
	log.Info("request", append(args, "exit", code, "duration", time.Since(start))...)
	return code
}

// serveUntil runs sess until it ends or ctx is cancelled; then it closes
// stdin, when it can be closed, so that the session's read returns.
func serveUntil(ctx context.Context, sess *lfs.Session, stdio Stdio) error {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			if c, ok := stdio.Stdin.(io.Closer); ok {
				c.Close()
			}
		case <-done:
		}
	}()
	err := sess.Serve(stdio.Stdin, stdio.Stdout)
	close(done)
	wg.Wait()
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return err
}
