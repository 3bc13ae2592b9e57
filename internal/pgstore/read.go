package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gitserver/gitserver/keys"
)

// MaxChanges is the most changes one ChangesSince returns.
const MaxChanges = 10000

// Snapshot calls fn for every key, ordered by fingerprint, and returns the
// id of the last change committed at that point (0 if none): all read in
// one REPEATABLE READ transaction, so the keys are exactly the state after
// the changes up to lastID. A replica loads them, then follows
// ChangesSince(lastID). An error from fn stops the snapshot and is
// returned. The transaction stays open while fn runs; fn should be quick.
func (s *Store) Snapshot(ctx context.Context, fn func(keys.Record) error) (lastID int64, err error) {
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	var fnErr error
	err = pgx.BeginTxFunc(ctx, s.pool, opts, func(tx pgx.Tx) error {
		// The first statement fixes the snapshot for both.
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM gitserver_changes`).Scan(&lastID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT fingerprint, username, title, key_type, key_blob, comment, added, deploy
			FROM gitserver_keys ORDER BY fingerprint`)
		if err != nil {
			return err
		}
		var r keys.Record
		var deploy []byte
		dest := []any{&r.Key.Fingerprint, &r.User, &r.Title, &r.Key.Type, &r.Key.Blob, &r.Key.Comment, &r.Added, &deploy}
		_, err = pgx.ForEachRow(rows, dest, func() error {
			rec, err := checked(r, deploy)
			if err == nil {
				err = fn(rec)
			}
			fnErr = err
			return err
		})
		return err
	})
	switch {
	case fnErr != nil && errors.Is(err, fnErr):
		return 0, err
	case err != nil:
		return 0, s.fail(ctx, "snapshot", err)
	}
	return lastID, nil
}

// copied is a copy of a row's record, with its deploy grant (NULL: none).
func copied(r keys.Record, deploy []byte) (keys.Record, error) {
	r.Key.Blob = append([]byte(nil), r.Key.Blob...)
	r.Added = r.Added.UTC()
	r.Deploy = nil
	if deploy != nil {
		r.Deploy = new(keys.Deploy)
		if err := json.Unmarshal(deploy, r.Deploy); err != nil {
			return r, fmt.Errorf("deploy: %w", err)
		}
	}
	return r, nil
}

// checked returns a copy of a record read from the table, refusing one
// the store would not accept (a row edited by hand).
func checked(r keys.Record, deploy []byte) (keys.Record, error) {
	fp := r.Key.Fingerprint
	r, err := copied(r, deploy)
	if err != nil {
		return keys.Record{}, fmt.Errorf("pgstore: key %s in gitserver_keys: %w", fp, err)
	}
	if err := r.Check(); err != nil {
		return keys.Record{}, fmt.Errorf("pgstore: key %s in gitserver_keys: %w", fp, err)
	}
	return r, nil
}

// ChangesSince returns the changes with ids above id, in id order, at
// most limit of them; limit 0 or above MaxChanges means MaxChanges. Fewer
// than limit means the caller is up to date. Since changes commit in id
// order (see the package doc), a caller that goes on from the last id
// returned misses none.
func (s *Store) ChangesSince(ctx context.Context, id int64, limit int) ([]Change, error) {
	if limit <= 0 || limit > MaxChanges {
		limit = MaxChanges
	}
	rows, err := s.pool.Query(ctx, `SELECT id, kind, fingerprint, payload FROM gitserver_changes
		WHERE id > $1 ORDER BY id LIMIT $2`, id, limit)
	if err != nil {
		return nil, s.fail(ctx, "changes", err)
	}
	var changes []Change
	var cid int64
	var kind, fp string
	var data []byte
	var decodeErr error
	_, err = pgx.ForEachRow(rows, []any{&cid, &kind, &fp, &data}, func() error {
		c, err := decodeChange(cid, kind, fp, data)
		if err != nil {
			decodeErr = fmt.Errorf("pgstore: %w", err)
			return decodeErr
		}
		changes = append(changes, c)
		return nil
	})
	switch {
	case decodeErr != nil && errors.Is(err, decodeErr):
		return nil, err
	case err != nil:
		return nil, s.fail(ctx, "changes", err)
	}
	return changes, nil
}
