package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gitserver/gitserver/keys"
)

// WriteLock is the key of the advisory lock every writing transaction
// takes first, before it takes ids (see the package doc): the bytes of
// "gitserve".
const WriteLock int64 = 0x6769747365727665

// MaxAddKeys is the most records one AddKeys takes; more need several
// calls, so that no transaction holds WriteLock long.
const MaxAddKeys = 5000

// lockWrites takes WriteLock until the end of tx.
func lockWrites(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, WriteLock)
	return err
}

// AddKeys adds records all or nothing, in one transaction, with a
// key-add change for each, as keys.Store.Add does: a key the same user
// already has is skipped, a key of another user is a conflict. If any
// record is invalid or conflicts, nothing is written and the error lists
// every such record; errors.As finds a *keys.ConflictError in it. added
// holds the records written, with Added set to now if it was zero, and
// rounded to the microsecond, as PostgreSQL keeps it. If the connection
// is lost during the commit, the keys may or may not have been added:
// calling AddKeys again with the same records is safe.
func (s *Store) AddKeys(ctx context.Context, recs []keys.Record) (added []keys.Record, err error) {
	if len(recs) > MaxAddKeys {
		return nil, fmt.Errorf("pgstore: %d keys in one AddKeys, the most is %d; add them in batches", len(recs), MaxAddKeys)
	}
	recs, err = prepare(recs, time.Now())
	if err != nil {
		return nil, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockWrites(ctx, tx); err != nil {
			return err
		}
		var err error
		if added, err = newRecords(ctx, tx, recs); err != nil || len(added) == 0 {
			return err
		}
		if err := insertKeys(ctx, tx, added); err != nil {
			return err
		}
		return s.logChanges(ctx, tx, KindKeyAdd, added)
	})
	if err != nil {
		return nil, s.result(ctx, "add keys", err)
	}
	return added, nil
}

// prepare checks records, sets a zero Added to now and rounds it to what
// timestamptz keeps, and reports every invalid record and every key given
// twice to two users.
func prepare(recs []keys.Record, now time.Time) ([]keys.Record, error) {
	good := make([]keys.Record, 0, len(recs))
	owner := make(map[string]string, len(recs))
	var errs []error
	for i, r := range recs {
		if err := r.Check(); err != nil {
			errs = append(errs, fmt.Errorf("pgstore: record %d (%s): %w", i+1, r.Key.Fingerprint, err))
			continue
		}
		fp := r.Key.Fingerprint
		if u, ok := owner[fp]; ok {
			if u != r.User {
				errs = append(errs, &keys.ConflictError{Fingerprint: fp, Owner: u})
			}
			continue
		}
		owner[fp] = r.User
		if r.Added.IsZero() {
			r.Added = now
		}
		r.Added = r.Added.UTC().Round(0).Truncate(time.Microsecond)
		good = append(good, r)
	}
	return good, errors.Join(errs...)
}

// newRecords returns the records whose keys are not in the table, or the
// conflicts with keys of other users.
func newRecords(ctx context.Context, tx pgx.Tx, recs []keys.Record) ([]keys.Record, error) {
	fps := make([]string, len(recs))
	for i, r := range recs {
		fps[i] = r.Key.Fingerprint
	}
	rows, err := tx.Query(ctx, `SELECT fingerprint, username FROM gitserver_keys WHERE fingerprint = ANY($1)`, fps)
	if err != nil {
		return nil, err
	}
	owner := make(map[string]string)
	var fp, user string
	if _, err := pgx.ForEachRow(rows, []any{&fp, &user}, func() error { owner[fp] = user; return nil }); err != nil {
		return nil, err
	}
	var fresh []keys.Record
	var conflicts []error
	for _, r := range recs {
		switch u, ok := owner[r.Key.Fingerprint]; {
		case !ok:
			fresh = append(fresh, r)
		case u != r.User:
			conflicts = append(conflicts, &keys.ConflictError{Fingerprint: r.Key.Fingerprint, Owner: u})
		}
	}
	return fresh, errors.Join(conflicts...)
}

// insertKeys inserts records, in one statement.
func insertKeys(ctx context.Context, tx pgx.Tx, recs []keys.Record) error {
	n := len(recs)
	fps, users, titles, types, comments := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	blobs, added := make([][]byte, n), make([]time.Time, n)
	for i, r := range recs {
		fps[i], users[i], titles[i], types[i], comments[i] = r.Key.Fingerprint, r.User, r.Title, r.Key.Type, r.Key.Comment
		blobs[i], added[i] = r.Key.Blob, r.Added
	}
	_, err := tx.Exec(ctx, `INSERT INTO gitserver_keys (fingerprint, username, title, key_type, key_blob, comment, added)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[], $7::timestamptz[])`,
		fps, users, titles, types, blobs, comments, added)
	return err
}

// RemoveKey removes the key with fingerprint fp, with a key-remove
// change, and returns its record. A key not in the table is an error
// wrapping keys.ErrNotFound.
func (s *Store) RemoveKey(ctx context.Context, fp string) (keys.Record, error) {
	if err := checkFingerprint(fp); err != nil {
		return keys.Record{}, err
	}
	var r keys.Record
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockWrites(ctx, tx); err != nil {
			return err
		}
		row := tx.QueryRow(ctx, `DELETE FROM gitserver_keys WHERE fingerprint = $1
			RETURNING username, title, key_type, key_blob, comment, added`, fp)
		err := row.Scan(&r.User, &r.Title, &r.Key.Type, &r.Key.Blob, &r.Key.Comment, &r.Added)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("key %s: %w", fp, keys.ErrNotFound)
		}
		if err != nil {
			return err
		}
		r.Key.Fingerprint, r.Added = fp, r.Added.UTC()
		return s.logChanges(ctx, tx, KindKeyRemove, []keys.Record{r})
	})
	if err != nil {
		return keys.Record{}, s.result(ctx, "remove key", err)
	}
	return r, nil
}

// checkFingerprint checks that fp has the SHA256:... form.
func checkFingerprint(fp string) error {
	const prefix, n = "SHA256:", 43
	if len(fp) != len(prefix)+n || fp[:len(prefix)] != prefix {
		return fmt.Errorf("pgstore: %s is not a SHA256 fingerprint; want the SHA256:... form that ssh-keygen -l prints", keys.Quote(fp))
	}
	return nil
}

// logChanges appends a change of kind for each record, with ids taken
// under WriteLock, and notifies Channel of the last id.
func (s *Store) logChanges(ctx context.Context, tx pgx.Tx, kind string, recs []keys.Record) error {
	var last int64
	// Under WriteLock no one else takes ids: reserve len(recs) at once.
	err := tx.QueryRow(ctx, `SELECT setval('gitserver_change_id', nextval('gitserver_change_id') + $1 - 1)`, len(recs)).Scan(&last)
	if err != nil {
		return err
	}
	n := len(recs)
	ids, kinds, fps, payloads := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
	for i, r := range recs {
		p, err := encodePayload(r)
		if err != nil {
			return err
		}
		ids[i], kinds[i], fps[i], payloads[i] = last-int64(n-1-i), kind, r.Key.Fingerprint, string(p)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO gitserver_changes (id, kind, fingerprint, payload)
		SELECT id, kind, fp, p::jsonb FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(id, kind, fp, p)`,
		ids, kinds, fps, payloads); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, strconv.FormatInt(last, 10)); err != nil {
		return err
	}
	if s.beforeCommit != nil {
		s.beforeCommit()
	}
	return nil
}

// result wraps the error of a write: the store's own refusals (conflicts,
// a key not found) as they are, others through fail.
func (s *Store) result(ctx context.Context, op string, err error) error {
	var ce *keys.ConflictError
	if errors.As(err, &ce) || errors.Is(err, keys.ErrNotFound) {
		return fmt.Errorf("pgstore: %w", err)
	}
	return s.fail(ctx, op, err)
}
