package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/internal/webhook"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/shim"
	"github.com/hashicorp/go-hclog"
)

// QueueFile is the webhook queue in the data directory.
const QueueFile = "webhooks.db"

// queueWebhooks turns a finished push (post-receive's input) into the
// policy's webhook deliveries and appends them to the queue. It never
// fails the push (which has happened): what goes wrong is logged.
func queueWebhooks(ctx context.Context, a *app, log hclog.Logger, stdin []byte, getenv func(string) string) {
	if a.Cfg.Driver != "file" {
		return // webhooks live in the file driver's policy
	}
	pol, err := filedriver.LoadPolicy(a.Cfg.Policy)
	if err != nil {
		log.Error("webhooks: policy unreadable; no deliveries queued for this push", "error", err)
		return
	}
	hooks := pol.Webhooks()
	if len(hooks) == 0 {
		return
	}
	updates, err := shim.ParseRefUpdates(bytes.NewReader(stdin))
	if err != nil {
		log.Error("webhooks: bad post-receive input", "error", err)
		return
	}
	git, err := shim.LookGit()
	if err != nil {
		log.Error("webhooks: no git", "error", err)
		return
	}
	dir, _ := os.Getwd() // git runs post-receive in the repository
	p := &webhook.Push{Repo: getenv("GITSERVER_REPO"), Dir: dir, User: getenv("GITSERVER_USER"), Key: getenv("GITSERVER_KEY"),
		Created: getenv(shim.EnvCreated) == "1", At: time.Now(), Git: git,
		Env: []string{"PATH=" + shim.SafePath, "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1"}}
	for _, u := range updates {
		p.Updates = append(p.Updates, webhook.Update{Old: u.Old, New: u.New, Ref: u.Ref})
	}
	ds := webhook.Deliveries(ctx, p, hooks, keys.DeployUser)
	q := &webhook.Queue{Path: filepath.Join(a.Cfg.DataDir, QueueFile)}
	if err := q.Append(ds); err != nil {
		log.Error("webhooks: cannot queue the push's deliveries", "repo", p.Repo, "error", err)
		return
	}
	for _, d := range ds {
		log.Info("webhook queued", "delivery", d.ID, "url", d.URL, "repo", d.Repo, "event", d.Event)
	}
}
