// Package replicate keeps a host's local key store (a keys.Store) a
// replica of the keys in PostgreSQL (a pgstore.Store), and with
// Options.PolicyFile its policy file one of the policy there, so that logins go
// on reading one local file.
//
// Run loads a full Snapshot into a store that has no replica state, then
// follows the change log: it LISTENs on pgstore.Channel on a connection of
// its own and, on each notification or every Options.Poll at the latest,
// applies ChangesSince(the last id applied) in batches. Each batch, with
// its last id, is one transaction of the local store, so a replica killed
// at any moment restarts from the last batch it applied. Every check,
// even one that finds nothing new, records when the replica was last
// current (keys.Store.ReplicaState): the lag that 'gitserver replicate
// --status' reports.
//
// A lost connection is logged in one line and retried after a pause that
// doubles up to Options.MaxBackoff; the replica then catches up from its
// last id. Every Options.Reconcile, a full Snapshot replaces the replica,
// so that a store edited by hand comes back to the source's state.
//
// # Security
//
// The replica holds whatever PostgreSQL's tables say: whoever can write
// them can log in as anyone (see pgstore). Changes are checked
// (keys.Record.Check) before they are applied.
//
// # The policy
//
// With Options.PolicyFile, the policy document in the source replaces
// that file: at each snapshot when the file differs, and for the newest
// policy change of each batch of changes, before the batch's keys are
// applied (so a replica killed in between writes it again at restart).
// A document that does not parse here (pushed by a newer gitserver) is
// written all the same and logged: the file driver then refuses every
// request until it is fixed, rather than go on with a policy that the
// source has replaced.
package replicate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"

	"github.com/gitserver/gitserver/internal/atomicfile"
	"github.com/gitserver/gitserver/internal/pgstore"
	"github.com/gitserver/gitserver/keys"
)

// Defaults for Options.
const (
	DefaultPoll       = time.Second
	DefaultMaxBackoff = 5 * time.Second
	DefaultReconcile  = 15 * time.Minute
	firstBackoff      = 100 * time.Millisecond
)

// Options tune Run. The zero value uses the defaults.
type Options struct {
	// Poll is the longest wait for a notification before the log is
	// read anyway. Zero means DefaultPoll.
	Poll time.Duration
	// MaxBackoff bounds the pause before reconnecting. Zero means
	// DefaultMaxBackoff.
	MaxBackoff time.Duration
	// Reconcile is how often a full Snapshot replaces the replica.
	// Zero means DefaultReconcile; below zero, never (but at start when
	// the store has no replica state).
	Reconcile time.Duration
	// Batch is how many changes one local transaction applies at most.
	// Zero means pgstore.MaxChanges.
	Batch int
	// PolicyFile, if set, is the local policy file that the policy
	// document in the source replaces (the file driver's policy). Empty:
	// policy changes are not applied on this host.
	PolicyFile string
	// WritePolicy replaces PolicyFile by its new content, whole. Nil
	// means atomicfile.Write with mode 0644, owner left as it comes.
	WritePolicy func(path string, doc []byte) error
}

func (o Options) withDefaults() Options {
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.Reconcile == 0 {
		o.Reconcile = DefaultReconcile
	}
	if o.Batch <= 0 || o.Batch > pgstore.MaxChanges {
		o.Batch = pgstore.MaxChanges
	}
	if o.WritePolicy == nil {
		o.WritePolicy = func(path string, doc []byte) error { return atomicfile.Write(path, doc, 0o644, -1, -1) }
	}
	return o
}

// replica is the state of one Run.
type replica struct {
	pg         *pgstore.Store
	local      *keys.Store
	dsn        string
	log        hclog.Logger
	opt        Options
	last       int64     // the last change applied, once known
	known      bool      // last is read from the local store
	reconciled time.Time // the last full snapshot, or the start
	current    bool      // the session caught up at least once
}

// Sync brings local up to date with pg once, as one step of Run does: a
// full snapshot if local has no replica state, then every change after
// its last. A host that writes to pg calls it before it answers, so that
// the writer reads its own write here even while no Run is going.
func Sync(ctx context.Context, pg *pgstore.Store, local *keys.Store, log hclog.Logger, opt Options) error {
	r := &replica{pg: pg, local: local, log: log, opt: opt.withDefaults()}
	if err := r.load(); err != nil {
		return err
	}
	if !r.known {
		if err := r.snapshot(ctx); err != nil {
			return err
		}
	}
	return r.catchUp(ctx)
}

// Run keeps local a replica of pg until ctx is done, then returns nil.
// dsn names the same database as pg: Run opens its own connection to
// LISTEN there. It returns an error only if the local store cannot be
// read at start; every other failure is logged and retried.
func Run(ctx context.Context, pg *pgstore.Store, local *keys.Store, dsn string, log hclog.Logger, opt Options) error {
	r := &replica{pg: pg, local: local, dsn: dsn, log: log, opt: opt.withDefaults(), reconciled: time.Now()}
	if err := r.load(); err != nil {
		return err
	}
	pause := firstBackoff
	for {
		r.current = false
		err := r.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if r.current {
			pause = firstBackoff
		}
		log.Warn("replication interrupted; reconnecting", "error", err, "retry_in", pause.String(), "last_id", r.last)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
		pause = nextBackoff(pause, r.opt.MaxBackoff)
	}
}

// nextBackoff doubles pause, up to max.
func nextBackoff(pause, max time.Duration) time.Duration {
	return min(2*pause, max)
}

// load reads the last change applied from the local store.
func (r *replica) load() error {
	last, _, ok, err := r.local.ReplicaState()
	if err != nil {
		return fmt.Errorf("replicate: %w", err)
	}
	r.last, r.known = last, ok
	return nil
}

// session connects, LISTENs and follows the log until an error.
func (r *replica) session(ctx context.Context) error {
	conn, err := r.listen(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for {
		if !r.known || r.opt.Reconcile > 0 && time.Since(r.reconciled) >= r.opt.Reconcile {
			if err := r.snapshot(ctx); err != nil {
				return err
			}
		}
		if err := r.catchUp(ctx); err != nil {
			return err
		}
		r.current = true
		if err := wait(ctx, conn, r.opt.Poll); err != nil {
			return err
		}
	}
}

// listen opens the connection that LISTENs on pgstore.Channel. Changes
// committed before LISTEN are found by the catch-up that follows it.
func (r *replica) listen(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(r.dsn)
	if err != nil {
		// pgx's message may quote the dsn, password included: not shown.
		return nil, errors.New("replicate: cannot parse the PostgreSQL connection string")
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "gitserver-replicate"
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("replicate: listen: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{pgstore.Channel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("replicate: listen: %w", err)
	}
	return conn, nil
}

// wait returns after a notification or poll, whichever comes first; an
// error if the connection failed.
func wait(ctx context.Context, conn *pgx.Conn, poll time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, poll)
	defer cancel()
	_, err := conn.WaitForNotification(wctx)
	if err != nil && wctx.Err() != nil && ctx.Err() == nil {
		return nil // the poll's timeout
	}
	if err != nil {
		return fmt.Errorf("replicate: listen: %w", err)
	}
	return nil
}
