//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package keys

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// lockFile takes an flock(2) lock on f, shared or exclusive, waiting at most
// timeout. bbolt then takes the same lock on the same open file, which
// succeeds at once. Locking here first replaces bbolt's wait, a retry every
// 50 ms, by a blocking flock that the kernel wakes as soon as the holder
// lets go: a lookup that meets a writer waits for that writer's one
// transaction and no more, even when transactions follow each other closely
// (see writePause).
func lockFile(f *os.File, exclusive bool, timeout time.Duration) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	err := flock(int(f.Fd()), how|syscall.LOCK_NB)
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		return err
	}
	// Wait on a duplicate of the descriptor, which shares f's lock. If the
	// wait times out, the caller closes f, and the goroutine closes the
	// duplicate once it has the lock, which releases it.
	dup, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		err := flock(dup, how)
		syscall.Close(dup)
		done <- err
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return errBusy
	}
}

// flock calls flock(2), again if a signal interrupts it.
func flock(fd, how int) error {
	for {
		err := syscall.Flock(fd, how)
		if err != syscall.EINTR {
			return err
		}
	}
}
