//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package keys

import (
	"os"
	"time"
)

// lockFile does nothing here: bbolt takes the lock itself, retrying every
// 50 ms until Options.Timeout.
func lockFile(*os.File, bool, time.Duration) error { return nil }
