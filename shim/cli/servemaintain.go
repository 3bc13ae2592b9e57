package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
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
		cmd.SysProcAttr = childAttr()
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

// deliverLoop runs gitserver-deliver as serve's child until ctx ends,
// starting it again if it stops. Without the helper installed, webhook
// deliveries wait in the queue, and the log says why once.
func deliverLoop(ctx context.Context, log hclog.Logger, config string) {
	helper, err := findDeliver()
	if err != nil {
		log.Warn("webhook deliveries are not sent from this serve: "+deliverHint, "error", err)
		return
	}
	argv := deliverArgv(helper, config)
	for ctx.Err() == nil {
		cmd := exec.CommandContext(ctx, helper, argv[1:]...)
		cmd.SysProcAttr = childAttr()
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.WaitDelay = 10 * time.Second
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if ctx.Err() != nil {
			return
		}
		log.Error("webhook worker stopped; starting it again", "error", err, "output", strings.TrimSpace(out.String()))
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
