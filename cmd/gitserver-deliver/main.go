// Command gitserver-deliver sends the webhook deliveries that pushes
// queue (package internal/webhook), a separate program so that net/http
// stays out of the gitserver binary, which sshd starts for every login.
// Install it beside gitserver, from the same build; gitserver runs it,
// with its build id, which it checks:
//
//	gitserver deliver   → gitserver-deliver --build-id=ID --config FILE
//	gitserver serve     → the same, as its child, with --events-fd=3 when
//	                      metrics_listen is set
//
// With metrics_listen set it also serves the Prometheus endpoint
// (package internal/metrics): under serve, of serve's connections and
// requests, which serve writes on the pipe at --events-fd; always, of the
// webhook queue and deliveries.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
	"github.com/hashicorp/go-hclog"

	"github.com/gitserver/gitserver/internal/metrics"
	"github.com/gitserver/gitserver/internal/metrics/event"
	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/internal/version"
	"github.com/gitserver/gitserver/internal/webhook"
	"github.com/gitserver/gitserver/internal/webhook/deliver"
)

const name = "gitserver-deliver"

// QueueFile is the queue in the data directory (as gitserver names it).
const queueFile = "webhooks.db"

type cli struct {
	BuildID    string        `name:"build-id" help:"The build id of the gitserver that runs this helper; it must be this helper's own."`
	Config     string        `required:"" type:"path" help:"Config file." placeholder:"FILE"`
	Poll       time.Duration `default:"1s" help:"Read the queue this often."`
	FirstRetry time.Duration `name:"first-retry" default:"10s" help:"Wait after a first failed attempt; doubles each time up to an hour."`
	EventsFD   int           `name:"events-fd" help:"Read serve's metrics events from this file descriptor (serve passes 3); its end stops the helper." placeholder:"FD"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c cli
	code := -1
	parser, err := kong.New(&c, kong.Name(name),
		kong.Description("gitserver's webhook delivery worker, run by gitserver; see 'gitserver deliver --help'."),
		kong.Writers(stdout, stderr), kong.Exit(func(c int) { code = c }))
	if err == nil {
		_, err = parser.Parse(args)
	}
	if code >= 0 {
		return code
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	if err := version.CheckPeer(name, c.BuildID); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	a, err := setup.LoadConfig(c.Config)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	defer a.Close()
	log := a.Log.Named("deliver")
	log.Info("delivering webhooks", "queue", filepath.Join(a.Cfg.DataDir, queueFile))
	w := &deliver.Worker{Queue: &webhook.Queue{Path: filepath.Join(a.Cfg.DataDir, queueFile)}, Log: log, Poll: c.Poll, FirstRetry: c.FirstRetry}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if a.Cfg.MetricsListen != "" {
		m := metrics.New(c.EventsFD > 0, a.Cfg.MetricsRepoLabels)
		l, err := net.Listen("tcp", a.Cfg.MetricsListen)
		if err != nil {
			log.Error("cannot serve metrics", "metrics_listen", a.Cfg.MetricsListen, "error", err)
			fmt.Fprintf(stderr, "%s: metrics_listen: %v\n", name, err)
			return 1
		}
		log.Info("serving metrics", "address", l.Addr().String(), "paths", "/metrics /health /ready")
		go func() {
			if err := m.Serve(ctx, l); err != nil {
				log.Error("metrics endpoint failed", "error", err)
				cancel()
			}
		}()
		w.Observe = m
		if c.EventsFD > 0 {
			go readEvents(ctx, cancel, log, os.NewFile(uintptr(c.EventsFD), "events"), m.Apply)
		}
	}
	if err := w.Run(ctx); err != nil {
		log.Error("stopped", "error", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// readEvents applies serve's events until the pipe ends (serve stops, or
// starts another helper), then stops this one.
func readEvents(ctx context.Context, stop func(), log hclog.Logger, f *os.File, apply func(event.Event)) {
	defer stop()
	defer f.Close()
	if err := event.Read(f, apply); err != nil && ctx.Err() == nil {
		log.Error("serve's metrics events unreadable; stopping", "error", err)
		return
	}
	log.Debug("serve's metrics events ended")
}
