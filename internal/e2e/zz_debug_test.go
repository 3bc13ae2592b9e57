package e2e

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func BenchmarkZZDebug(b *testing.B) {
	w := newLFSBenchWork(b)
	h := lfsBenchSSHD(b)
	hs := lfsBenchServe(b, func(h *lfsBenchHost) {
		for i := 0; i < 50; i++ {
			h.create(fmt.Sprintf("bench/t%d", i))
		}
	})
	for i := 0; i < 50; i++ {
		h.create(fmt.Sprintf("bench/t%d", i))
	}
	f, _ := os.Create("/tmp/lfsdebug.env")
	fmt.Fprintf(f, "LFS=%s\nPLAIN=%s\nSSHD_ENV='%v'\nSSHD_REPOS=%s\nSERVE_ENV='%v'\nSERVE_REPOS=%s\n", w.lfs, w.plain, h.p.env(), h.repos, hs.p.env(), hs.repos)
	f.Close()
	os.WriteFile("/tmp/lfsdebug.hold", nil, 0o644)
	for {
		if _, err := os.Stat("/tmp/lfsdebug.hold"); err != nil {
			return
		}
		time.Sleep(time.Second)
	}
}
