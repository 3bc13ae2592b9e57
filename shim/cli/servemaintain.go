package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
)

// maintainLoop runs 'gitserver maintain --all' every interval until ctx
// ends, as a child process of its own (which lowers its own CPU and I/O
// priority, not serve's), one run at a time. The first run is one
// interval after start.
func maintainLoop(ctx context.Context, log hclog.Logger, config string, interval time.Duration) {
	if interval <= 0 {
		return
	}
	self, err := os.Executable()
	if err != nil {
		log.Error("scheduled maintenance is off: cannot find gitserver's own binary", "error", err)
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		cmd := exec.CommandContext(ctx, self, "--config", config, "maintain", "--all")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		text := strings.TrimSpace(out.String())
		if err != nil && ctx.Err() == nil {
			log.Error("scheduled maintenance failed", "error", err, "output", text)
			continue
		}
		log.Debug("scheduled maintenance done", "duration", time.Since(start), "output", text)
	}
}
