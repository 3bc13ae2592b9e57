package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gitserver/gitserver/internal/exe"
	"github.com/gitserver/gitserver/internal/version"
	"github.com/gitserver/gitserver/internal/webhook"
)

// DeliverHelper is the webhook worker program, installed beside gitserver.
const DeliverHelper = "gitserver-deliver"

// deliverHint says how to install it.
const deliverHint = "install " + DeliverHelper + " beside gitserver from the same build: CGO_ENABLED=0 go install -trimpath ./cmd/gitserver ./cmd/" + DeliverHelper

// findDeliver finds the helper beside this binary, safe to run.
func findDeliver() (string, error) {
	helper, err := exe.Beside(DeliverHelper)
	if err == nil {
		err = exe.Check(helper)
	}
	return helper, err
}

// deliverArgv is the helper's command line for config.
func deliverArgv(helper, config string, extra ...string) []string {
	return append([]string{helper, "--build-id=" + version.Get().BuildID(), "--config", config}, extra...)
}

// DeliverCmd runs the webhook delivery worker.
type DeliverCmd struct {
	FirstRetry time.Duration `name:"first-retry" default:"10s" hidden:"" help:"Wait after a first failed attempt (tests)."`
}

// Run replaces this process by gitserver-deliver, until SIGTERM.
func (c *DeliverCmd) Run(cli *CLI, e *env) error {
	a, err := loadConfig(cli)
	if err != nil {
		return err
	}
	a.Close()
	helper, err := findDeliver()
	if err != nil {
		return fmt.Errorf("deliver: %w\nhint: %s", err, deliverHint)
	}
	return execHelper(helper, deliverArgv(helper, a.Cfg.File, "--first-retry", c.FirstRetry.String()), os.Environ())
}

// HooksCmd groups the webhook admin commands.
type HooksCmd struct {
	Deliveries HooksDeliveriesCmd `cmd:"" help:"List the webhook deliveries waiting (or, with --failed, given up after a day of retries)."`
	Redeliver  HooksRedeliverCmd  `cmd:"" help:"Send a failed (or waiting) delivery again now, with a fresh day of retries; it keeps its id."`
}

// HooksDeliveriesCmd lists deliveries.
type HooksDeliveriesCmd struct {
	Failed bool `help:"The failed deliveries instead of the waiting ones."`
	JSON   bool `help:"Print JSON, one array."`
}

func queueOf(cli *CLI) (*webhook.Queue, error) {
	a, err := loadConfig(cli)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	return &webhook.Queue{Path: filepath.Join(a.Cfg.DataDir, QueueFile)}, nil
}

// Run prints one line per delivery.
func (c *HooksDeliveriesCmd) Run(cli *CLI, e *env) error {
	q, err := queueOf(cli)
	if err != nil {
		return err
	}
	ds, err := q.List(c.Failed)
	if err != nil {
		return err
	}
	if c.JSON {
		type row struct {
			ID        string    `json:"id"`
			URL       string    `json:"url"`
			Repo      string    `json:"repo"`
			Event     string    `json:"event"`
			Created   time.Time `json:"created"`
			Attempts  int       `json:"attempts"`
			NextAt    time.Time `json:"next_at"`
			LastError string    `json:"last_error,omitempty"`
		}
		rows := []row{}
		for _, d := range ds {
			rows = append(rows, row{d.ID, d.URL, d.Repo, d.Event, d.Created, d.Attempts, d.NextAt, d.LastError})
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	for _, d := range ds {
		fmt.Fprintf(e.stdout, "%s\t%s\t%s\t%s\tattempts %d\t%s\n", d.ID, d.Created.UTC().Format(time.RFC3339), d.Repo, d.URL, d.Attempts, d.LastError)
	}
	return nil
}

// HooksRedeliverCmd redelivers one delivery.
type HooksRedeliverCmd struct {
	ID string `arg:"" help:"The delivery's id (hooks deliveries --failed)." placeholder:"ID"`
}

// Run moves it to the front of the queue.
func (c *HooksRedeliverCmd) Run(cli *CLI, e *env) error {
	q, err := queueOf(cli)
	if err != nil {
		return err
	}
	err = q.Redeliver(c.ID, time.Now())
	if errors.Is(err, webhook.ErrNoDelivery) {
		return fmt.Errorf("no delivery %s; see 'gitserver hooks deliveries --failed'", c.ID)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: queued again\n", c.ID)
	return nil
}
