//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package keys

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// lockFile takes an flock(2) lock on f, shared or exclusive, waiting at most
// timeout. bbolt takes the same lock on the same open file afterwards, which
// succeeds at once; locking here first lets a waiter retry every few
// milliseconds instead of bbolt's fixed 50 ms, so a lookup that meets a
// writer waits about as long as the writer's transaction, no more.
func lockFile(f *os.File, exclusive bool, timeout time.Duration) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	deadline := time.Now().Add(timeout)
	wait := 500 * time.Microsecond
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return err
		}
		if time.Now().After(deadline) {
			return errBusy
		}
		time.Sleep(wait)
		wait = min(2*wait, 10*time.Millisecond)
	}
}
