package cli

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/internal/statewrite"
	"github.com/gitserver/gitserver/internal/version"
)

// ReplicateCmd keeps this host's key store and policy file a replica of
// PostgreSQL ([store] in the config), by running the helper gitserver-replicate in its
// place, or with --status reports how current the replica is, itself.
// See package internal/replicate.
type ReplicateCmd struct {
	Status    bool          `help:"Print the last change applied, when the replica was last known current, and the lag in seconds; exit 1 if this host has no replica."`
	Poll      time.Duration `default:"1s" help:"Read the change log at least this often, notified or not."`
	Reconcile time.Duration `default:"15m" help:"Replace the replica by a full snapshot this often (0: only when it has no state)."`
}

// Help is shown by --help under the command's summary.
func (c *ReplicateCmd) Help() string {
	return `PostgreSQL is the source of truth for keys and the policy; each host keeps a
replica in its local key store (data_dir/keys.db) and policy file (by default
data_dir/policy.toml), which authorized-keys and shell read alone, so logins go
on while PostgreSQL is away. Writes (keys add/remove/import, the SSH keys
commands, 'gitserver policy push') go to PostgreSQL and are in this host's
replica when they return. Name the database in the config:

  [store]
  postgres = "postgres://gitserver@db.example/gitserver"
  # or, with a password: a file not readable by others (chmod 640)
  dsn_file = "/etc/gitserver/pg.dsn"

'gitserver replicate' runs until SIGTERM or SIGINT: it loads a full snapshot
when the key store has no replica state, then applies each change as
PostgreSQL announces it (LISTEN gitserver_changes). A lost connection is logged
and retried; the replica then catches up from its last change. Run it as a
service: contrib/systemd/gitserver-replicate.service.

'gitserver replicate --status' prints last_id, current_at (when this host last
confirmed it had every change) and lag_seconds (the time since), and exits 1
when the key store is no replica.`
}

// The helper (statewrite.HelperName) is a separate program so that the
// PostgreSQL client (pgx, with crypto/tls) stays out of the gitserver
// binary, which sshd starts for every login: linked in, it made
// authorized-keys' start-up about 15% dearer in CPU and the binary
// 13 MB -> 21 MB.

// execHelper replaces this process by the helper; tests replace it.
var execHelper = syscall.Exec

// Run replicates until a signal, in the helper, or prints the status.
func (c *ReplicateCmd) Run(cli *CLI, e *env) error {
	if c.Status {
		return c.status(cli, e)
	}
	// Mistakes are reported here, the same way as by other commands.
	cfg, err := config.Load(cli.Config)
	if err != nil {
		return err
	}
	if _, err := cfg.Store.DSN(); err != nil {
		return err
	}
	helper, err := statewrite.FindHelper()
	if err != nil {
		return fmt.Errorf("replicate: %w\nhint: %s", err, statewrite.HelperHint)
	}
	argv := []string{helper, "run", "--build-id=" + version.Get().BuildID(), "--config", cfg.File,
		"--poll", c.Poll.String(), "--reconcile", c.Reconcile.String()}
	// The daemon inherits the environment on purpose: PGPASSFILE,
	// PGSSLROOTCERT and the like are libpq's documented settings.
	if err := execHelper(helper, argv, os.Environ()); err != nil {
		return fmt.Errorf("replicate: run %s: %w", helper, err)
	}
	return nil
}

// status prints the replica's state; exit 1 without one.
func (c *ReplicateCmd) status(cli *CLI, e *env) error {
	a, err := loadConfig(cli)
	if err != nil {
		return err
	}
	defer a.Close()
	last, at, ok, err := a.Store().ReplicaState()
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintf(e.stderr, "gitserver: %s is no replica: it has no replica state\n", a.Cfg.KeysPath())
		fmt.Fprintf(e.stderr, "hint: set [store] in the config and run 'gitserver replicate'\n")
		return exitError(1)
	}
	lag := max(time.Since(at), 0)
	fmt.Fprintf(e.stdout, "last_id: %d\ncurrent_at: %s\nlag_seconds: %.1f\n", last, at.Format(time.RFC3339Nano), lag.Seconds())
	return nil
}
