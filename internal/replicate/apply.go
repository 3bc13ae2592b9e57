package replicate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/gitserver/gitserver/internal/pgstore"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/policy"
)

// catchUp applies the changes after r.last in batches, until a batch is
// short: the replica is then current. A batch of none records only that.
func (r *replica) catchUp(ctx context.Context) error {
	for {
		changes, err := r.pg.ChangesSince(ctx, r.last, r.opt.Batch)
		if err != nil {
			return err
		}
		if err := r.applyPolicy(ctx, changes); err != nil {
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

// convert turns the key changes of changes, which follow since, into the
// local store's, with the last id among all changes (since if there are
// none).
func convert(changes []pgstore.Change, since int64) ([]keys.ReplicaChange, int64) {
	out := make([]keys.ReplicaChange, 0, len(changes))
	last := since
	for _, c := range changes {
		last = c.ID
		if c.Kind == pgstore.KindPolicy {
			continue
		}
		out = append(out, keys.ReplicaChange{ID: c.ID, Remove: c.Kind == pgstore.KindKeyRemove, Record: c.Record})
	}
	return out, last
}

// applyPolicy writes the document of the newest policy change among
// changes to the policy file.
func (r *replica) applyPolicy(ctx context.Context, changes []pgstore.Change) error {
	if r.opt.PolicyFile == "" {
		return nil
	}
	for i := len(changes) - 1; i >= 0; i-- {
		c := changes[i]
		if c.Kind != pgstore.KindPolicy {
			continue
		}
		doc, ok, err := r.pg.Policy(ctx, c.ID)
		switch {
		case err != nil:
			return fmt.Errorf("replicate: %w", err)
		case !ok || doc.SHA256 != c.PolicySHA256:
			return fmt.Errorf("replicate: policy version %d is missing or does not match its change; was gitserver_policy edited by hand?", c.ID)
		}
		return r.writePolicy(doc)
	}
	return nil
}

// snapshotPolicy writes the newest policy in the source, if any: read
// after the keys' snapshot, it is at least as new as every policy change
// the snapshot covers.
func (r *replica) snapshotPolicy(ctx context.Context) error {
	if r.opt.PolicyFile == "" {
		return nil
	}
	doc, ok, err := r.pg.Policy(ctx, 0)
	if err != nil || !ok {
		return err
	}
	return r.writePolicy(doc)
}

// writePolicy replaces the policy file by doc, unless it holds doc already.
func (r *replica) writePolicy(doc pgstore.PolicyDoc) error {
	path := r.opt.PolicyFile
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, doc.Document) {
		return nil
	}
	if _, err := policy.Parse(path, bytes.NewReader(doc.Document)); err != nil {
		r.log.Error("the policy pushed does not parse here; written all the same, so requests are refused until a good one is pushed", "version", doc.Version, "by", doc.By, "error", err)
	}
	if err := r.opt.WritePolicy(path, doc.Document); err != nil {
		return fmt.Errorf("replicate: policy: %w", err)
	}
	r.log.Info("policy replaced", "version", doc.Version, "sha256", doc.SHA256, "by", doc.By, "pushed_at", doc.At.Format(time.RFC3339), "file", path)
	return nil
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
		if err == nil {
			// Before the keys replace the store: the changes before
			// last are not read again, so a policy among them must be
			// on disk before last is.
			err = r.snapshotPolicy(ctx)
		}
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
