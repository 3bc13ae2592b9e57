// Command gitserver-deliver sends the webhook deliveries that pushes
// queue (package internal/webhook), a separate program so that net/http
// stays out of the gitserver binary, which sshd starts for every login.
// Install it beside gitserver, from the same build; gitserver runs it,
// with its build id, which it checks:
//
//	gitserver deliver   → gitserver-deliver --build-id=ID --config FILE
//	gitserver serve     → the same, as its child, while [[webhook]]s may exist
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

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
	if err := w.Run(ctx); err != nil {
		log.Error("stopped", "error", err)
		return 1
	}
	log.Info("stopped")
	return 0
}
