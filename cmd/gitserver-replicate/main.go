// Command gitserver-replicate keeps a host's key store a replica of the
// keys in PostgreSQL (package internal/replicate). 'gitserver replicate'
// runs it in its own place (exec), with its flags; install it beside
// gitserver. It is a separate program so that the PostgreSQL client
// stays out of the gitserver binary, which sshd starts for every login.
//
//	gitserver-replicate --config /etc/gitserver/config.toml --poll 1s --reconcile 15m
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/gitserver/gitserver/internal/pgstore"
	"github.com/gitserver/gitserver/internal/replicate"
	"github.com/gitserver/gitserver/internal/setup"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// flags are those 'gitserver replicate' passes.
type flags struct {
	Config    string        `required:"" type:"path" help:"Config file." placeholder:"FILE"`
	Poll      time.Duration `default:"1s" help:"Read the change log at least this often."`
	Reconcile time.Duration `default:"15m" help:"Replace the replica by a full snapshot this often (0: only when it has no state)."`
}

// run replicates until ctx is done and returns the exit code: 0 when
// stopped, 1 when it cannot start, 2 for bad flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f flags
	code := -1
	parser, err := kong.New(&f, kong.Name("gitserver-replicate"),
		kong.Description("Keep this host's key store a replica of the keys in PostgreSQL; see 'gitserver replicate --help'."),
		kong.Writers(stdout, stderr), kong.Exit(func(c int) { code = c }))
	if err == nil {
		_, err = parser.Parse(args)
	}
	if code >= 0 {
		return code
	}
	if err != nil {
		fmt.Fprintf(stderr, "gitserver-replicate: %v\n", err)
		return 2
	}
	if err := replicateUntil(ctx, f); err != nil {
		fmt.Fprintf(stderr, "gitserver-replicate: %v\n", err)
		return 1
	}
	return 0
}

// replicateUntil loads the config and runs replicate.Run until ctx is done.
func replicateUntil(ctx context.Context, f flags) error {
	a, err := setup.Load(f.Config)
	if err != nil {
		return err
	}
	defer a.Close()
	dsn, err := a.Cfg.Store.DSN()
	if err != nil {
		return err
	}
	log := a.Log.Named("replicate")
	pg, err := pgstore.Open(ctx, dsn)
	if err != nil {
		log.Error("cannot start", "error", err)
		return err
	}
	defer pg.Close()
	reconcile := f.Reconcile
	if reconcile == 0 {
		reconcile = -1 // replicate.Options: never
	}
	log.Info("replicating", "store", a.Cfg.KeysPath(), "poll", f.Poll.String(), "reconcile", f.Reconcile.String())
	err = replicate.Run(ctx, pg, a.Store(), dsn, log, replicate.Options{Poll: f.Poll, Reconcile: reconcile})
	if err != nil {
		log.Error("stopped", "error", err)
		return err
	}
	log.Info("stopped")
	return nil
}
