package sshdtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// Gitserver builds cmd/gitserver once per test binary, as the README says
// to install it (static, -trimpath: the dynamic loader would add to every
// sshd login), and returns its path. cmd/gitserver-replicate, which
// gitserver runs from beside itself for [store], and cmd/gitserver-deliver
// (webhooks) are built with it, into
// the same directory, in the same build (so their build ids match).
func Gitserver(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gitserver-build-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "gitserver")
		cmd := exec.Command("go", "build", "-trimpath", "-o", dir+string(os.PathSeparator),
			"github.com/gitserver/gitserver/cmd/gitserver", "github.com/gitserver/gitserver/cmd/gitserver-replicate", "github.com/gitserver/gitserver/cmd/gitserver-deliver")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}
