package replicate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gitserver/gitserver/internal/pgstore"
	"github.com/gitserver/gitserver/keys"
)

// catchUp applies the changes after r.last in batches, until a batch is
// short: the replica is then current. A batch of none records only that.
func (r *replica) catchUp(ctx context.Context) error {
	for {
		changes, err := r.pg.ChangesSince(ctx, r.last, r.opt.Batch)
		if err != nil {
			return err
		}
		batch, last := convert(changes, r.last)
		err = r.local.ApplyReplica(r.last, batch, last)
		var gap *keys.ReplicaGapError
		if errors.As(err, &gap) {
			// Someone else moved the replica (another replicate, a
			// restore): go on from where it is.
			r.log.Warn("local replica moved under us; going on from its state", "have", gap.Have, "expected", gap.Since)
			r.last = gap.Have
			continue
		}
		if err != nil {
			return fmt.Errorf("replicate: %w", err)
		}
		if len(changes) > 0 {
			r.log.Debug("changes applied", "count", len(changes), "last_id", last)
		}
		r.last = last
		if len(changes) < r.opt.Batch {
			return nil
		}
	}
}

// convert turns changes that follow since into the local store's, with
// the last id among them (since if there are none).
func convert(changes []pgstore.Change, since int64) ([]keys.ReplicaChange, int64) {
	out := make([]keys.ReplicaChange, len(changes))
	last := since
	for i, c := range changes {
		out[i] = keys.ReplicaChange{ID: c.ID, Remove: c.Kind == pgstore.KindKeyRemove, Record: c.Record}
		last = c.ID
	}
	return out, last
}

// snapshot replaces the local store by a Snapshot of the source.
func (r *replica) snapshot(ctx context.Context) error {
	start := time.Now()
	n := 0
	var last int64
	err := r.local.ReplaceAll(func(yield func(keys.Record) error) (int64, error) {
		var err error
		last, err = r.pg.Snapshot(ctx, func(rec keys.Record) error {
			n++
			return yield(rec)
		})
		return last, err
	})
	if err != nil {
		return fmt.Errorf("replicate: snapshot: %w", err)
	}
	if r.known && last < r.last {
		r.log.Warn("the source is behind the replica (a restored or new database?); following the source", "last_id", last, "replica_had", r.last)
	}
	r.log.Info("replica loaded from a snapshot", "keys", n, "last_id", last, "took", time.Since(start).String())
	r.last, r.known, r.reconciled = last, true, time.Now()
	return nil
}
