// Command gitserver-replicate is gitserver's PostgreSQL side, a separate
// program so that the PostgreSQL client stays out of the gitserver binary,
// which sshd starts for every login. Install it beside gitserver, from the
// same build; gitserver runs it, with its build id, which it checks:
//
//	gitserver replicate      → gitserver-replicate run --build-id=ID --config FILE --poll 1s --reconcile 15m
//	                           keeps this host's key store and policy file a replica (internal/replicate)
//	any write, [store] set  → gitserver-replicate write --build-id=ID --config=FILE
//	                           one statewrite.Request on stdin, its Response on stdout
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

	"github.com/gitserver/gitserver/internal/atomicfile"
	"github.com/gitserver/gitserver/internal/pgstore"
	"github.com/gitserver/gitserver/internal/replicate"
	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/internal/version"
)

// name is the program's name, in messages and the build check.
const name = "gitserver-replicate"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// common are the flags of both commands.
type common struct {
	BuildID string `name:"build-id" help:"The build id of the gitserver that runs this helper; it must be this helper's own."`
	Config  string `required:"" type:"path" help:"Config file." placeholder:"FILE"`
}

// cli is the command line gitserver passes.
type cli struct {
	Run struct {
		common
		Poll      time.Duration `default:"1s" help:"Read the change log at least this often."`
		Reconcile time.Duration `default:"15m" help:"Replace the replica by a full snapshot this often (0: only when it has no state)."`
	} `cmd:"" help:"Keep this host's key store and policy file a replica of PostgreSQL, until SIGTERM."`
	Write struct {
		common
	} `cmd:"" help:"Do the one write (a JSON statewrite.Request) on stdin in PostgreSQL, bring this host's replica up to date, answer on stdout."`
}

// run runs the command in args and returns the exit code: 0 when done or
// stopped, 1 when it cannot start (or a write failed), 2 for bad flags.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var c cli
	code := -1
	parser, err := kong.New(&c, kong.Name(name),
		kong.Description("gitserver's PostgreSQL side, run by gitserver; see 'gitserver replicate --help'."),
		kong.Writers(stdout, stderr), kong.Exit(func(c int) { code = c }))
	var kctx *kong.Context
	if err == nil {
		kctx, err = parser.Parse(args)
	}
	if code >= 0 {
		return code
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	switch kctx.Command() {
	case "run":
		err = replicateUntil(ctx, c.Run.common, c.Run.Poll, c.Run.Reconcile)
	case "write":
		err = write(ctx, c.Write.common, stdin, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

// open checks the build, loads the config, connects to PostgreSQL and
// brings its schema to this build's (pgstore.Migrate: once, whichever
// host is first; refused if the database is newer).
func open(ctx context.Context, f common) (*setup.App, *pgstore.Store, string, error) {
	if err := version.CheckPeer(name, f.BuildID); err != nil {
		return nil, nil, "", err
	}
	a, err := setup.Load(f.Config)
	if err != nil {
		return nil, nil, "", err
	}
	dsn, err := a.Cfg.Store.DSN()
	if err != nil {
		a.Close()
		return nil, nil, "", err
	}
	pg, err := pgstore.Open(ctx, dsn)
	if err == nil {
		if err = pg.Migrate(ctx); err != nil {
			pg.Close()
		}
	}
	if err != nil {
		a.Close()
		return nil, nil, "", err
	}
	return a, pg, dsn, nil
}

// replicaOptions are the options for this host's replica: the policy
// file, if the driver reads one, written for the ssh user.
func replicaOptions(a *setup.App) replicate.Options {
	var opt replicate.Options
	if a.Cfg.Driver == "file" {
		opt.PolicyFile = a.Cfg.Policy
		opt.WritePolicy = func(path string, doc []byte) error {
			return atomicfile.Write(path, doc, 0o644, a.Owner.UID, a.Owner.GID)
		}
	}
	return opt
}

// replicateUntil runs replicate.Run until ctx is done.
func replicateUntil(ctx context.Context, f common, poll, reconcile time.Duration) error {
	a, pg, dsn, err := open(ctx, f)
	if err != nil {
		return err
	}
	defer a.Close()
	defer pg.Close()
	log := a.Log.Named("replicate")
	opt := replicaOptions(a)
	opt.Poll, opt.Reconcile = poll, reconcile
	if reconcile == 0 {
		opt.Reconcile = -1 // replicate.Options: never
	}
	log.Info("replicating", "store", a.Cfg.KeysPath(), "policy", opt.PolicyFile, "poll", poll.String(), "reconcile", reconcile.String())
	if err := replicate.Run(ctx, pg, a.Store(), dsn, log, opt); err != nil {
		log.Error("stopped", "error", err)
		return err
	}
	log.Info("stopped")
	return nil
}
