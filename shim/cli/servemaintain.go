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

	"github.com/gitserver/gitserver/internal/metrics/event"
)

// maintainLoop runs 'gitserver maintain --all' every interval until ctx
// ends, as a child process of its own (which lowers its own CPU and I/O
// priority, not serve's), one run at a time. The first run is one
// interval after start.
func maintainLoop(ctx context.Context, log hclog.Logger, config string, interval time.Duration, sink *event.Sink) {
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
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			log.Error("scheduled maintenance failed", "error", err, "output", text)
			sink.Send(event.Event{Kind: event.Maintenance, Result: "failed", Seconds: event.Since(start)})
			continue
		}
		sink.Send(event.Event{Kind: event.Maintenance, Result: "ok", Seconds: event.Since(start)})
		log.Debug("scheduled maintenance done", "duration", time.Since(start), "output", text)
	}
}

// deliverLoop runs gitserver-deliver as serve's child until ctx ends,
// starting it again if it stops (after a second, doubling to a minute
// while it keeps failing at once). Without the helper installed,
// webhook deliveries wait in the queue, and the log says why once. With
// a sink (metrics_listen), the helper also serves the metrics, and reads
// sink's events on its fd 3.
func deliverLoop(ctx context.Context, log hclog.Logger, config string, sink *event.Sink) {
	helper, err := findDeliver()
	if err != nil {
		log.Warn("webhook deliveries are not sent from this serve: "+deliverHint, "error", err)
		return
	}
	var extra []string
	if sink != nil {
		extra = []string{"--events-fd=3"}
	}
	argv := deliverArgv(helper, config, extra...)
	delay := time.Second
	for ctx.Err() == nil {
		start := time.Now()
		out, err := runDeliver(ctx, helper, argv, sink)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > time.Minute {
			delay = time.Second
		}
		log.Error("webhook worker stopped; starting it again", "error", err, "output", out, "in", delay)
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Minute)
	}
}

// runDeliver runs the helper once, with sink's events on a pipe at its
// fd 3 when sink is set, and returns its output.
func runDeliver(ctx context.Context, helper string, argv []string, sink *event.Sink) (string, error) {
	cmd := exec.CommandContext(ctx, helper, argv[1:]...)
	cmd.SysProcAttr = childAttr()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	var w *os.File
	if sink != nil {
		r, pw, err := os.Pipe()
		if err != nil {
			return "", err
		}
		cmd.ExtraFiles, w = []*os.File{r}, pw
		defer r.Close()
	}
	if err := cmd.Start(); err != nil {
		if w != nil {
			w.Close()
		}
		return "", err
	}
	done := make(chan struct{})
	if w != nil {
		cmd.ExtraFiles[0].Close() // the child's now
		rctx, stop := context.WithCancel(ctx)
		defer func() { stop(); <-done }()
		go func() {
			defer close(done)
			_ = sink.Run(rctx, w) // ends with the helper (EPIPE) or serve
			w.Close()
		}()
	} else {
		close(done)
	}
	err := cmd.Wait()
	return strings.TrimSpace(out.String()), err
}
