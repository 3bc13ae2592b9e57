package pgstore

import (
	"context"
	"encoding/json"
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

// MaxAddKeys is the most records one AddKeys or ImportKeys takes; more
// need several calls, so that no transaction holds WriteLock long.
const MaxAddKeys = 5000

// lockWrites takes WriteLock until the end of tx.
func lockWrites(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, WriteLock)
	return err
}

// write runs fn in one transaction under WriteLock; op names it in errors.
func (s *Store) write(ctx context.Context, op string, fn func(pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockWrites(ctx, tx); err != nil {
			return err
		}
		return fn(tx)
	})
	if err != nil {
		return s.result(ctx, op, err)
	}
	return nil
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
	if err := checkBatch(recs); err != nil {
		return nil, err
	}
	recs, bad := prepare(recs, time.Now())
	if len(bad) > 0 {
		return nil, errors.Join(bad...)
	}
	err = s.write(ctx, "add keys", func(tx pgx.Tx) error {
		fresh, conflicts, err := newRecords(ctx, tx, recs)
		if err != nil {
			return err
		}
		if len(conflicts) > 0 {
			return errors.Join(conflicts...)
		}
		added = fresh
		return s.insertKeys(ctx, tx, added)
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// ImportKeys adds the good records in one transaction and reports the
// others in rejected (invalid records and conflicts), as keys.Store.Import
// does. err is the store failing, when nothing was added.
func (s *Store) ImportKeys(ctx context.Context, recs []keys.Record) (added int, rejected []error, err error) {
	if err := checkBatch(recs); err != nil {
		return 0, nil, err
	}
	good, bad := prepare(recs, time.Now())
	err = s.write(ctx, "import keys", func(tx pgx.Tx) error {
		fresh, conflicts, err := newRecords(ctx, tx, good)
		if err != nil {
			return err
		}
		rejected = append(bad, conflicts...)
		added = len(fresh)
		return s.insertKeys(ctx, tx, fresh)
	})
	if err != nil {
		return 0, bad, err
	}
	return added, rejected, nil
}

// checkBatch bounds one add.
func checkBatch(recs []keys.Record) error {
	if len(recs) > MaxAddKeys {
		return fmt.Errorf("pgstore: %d keys in one call, the most is %d; add them in batches", len(recs), MaxAddKeys)
	}
	return nil
}

// prepare checks records, sets a zero Added to now and rounds it to what
// timestamptz keeps. It returns the good records and an error for every
// invalid record and every key given twice to two users.
func prepare(recs []keys.Record, now time.Time) ([]keys.Record, []error) {
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
	return good, errs
}

// newRecords returns the records whose keys are not in the table, and a
// conflict for each key that another user has.
func newRecords(ctx context.Context, tx pgx.Tx, recs []keys.Record) (fresh []keys.Record, conflicts []error, err error) {
	fps := make([]string, len(recs))
	for i, r := range recs {
		fps[i] = r.Key.Fingerprint
	}
	rows, err := tx.Query(ctx, `SELECT fingerprint, username FROM gitserver_keys WHERE fingerprint = ANY($1)`, fps)
	if err != nil {
		return nil, nil, err
	}
	owner := make(map[string]string)
	var fp, user string
	if _, err := pgx.ForEachRow(rows, []any{&fp, &user}, func() error { owner[fp] = user; return nil }); err != nil {
		return nil, nil, err
	}
	for _, r := range recs {
		switch u, ok := owner[r.Key.Fingerprint]; {
		case !ok:
			fresh = append(fresh, r)
		case u != r.User:
			conflicts = append(conflicts, &keys.ConflictError{Fingerprint: r.Key.Fingerprint, Owner: u})
		}
	}
	return fresh, conflicts, nil
}

// insertKeys inserts records, in one statement, and logs a key-add
// change for each.
func (s *Store) insertKeys(ctx context.Context, tx pgx.Tx, recs []keys.Record) error {
	if len(recs) == 0 {
		return nil
	}
	n := len(recs)
	fps, users, titles, types, comments := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	blobs, added, deploys := make([][]byte, n), make([]time.Time, n), make([]*string, n)
	for i, r := range recs {
		fps[i], users[i], titles[i], types[i], comments[i] = r.Key.Fingerprint, r.User, r.Title, r.Key.Type, r.Key.Comment
		blobs[i], added[i] = r.Key.Blob, r.Added
		if r.Deploy != nil {
			b, err := json.Marshal(r.Deploy)
			if err != nil {
				return err
			}
			d := string(b)
			deploys[i] = &d
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO gitserver_keys (fingerprint, username, title, key_type, key_blob, comment, added, deploy)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[], $7::timestamptz[], $8::jsonb[])`,
		fps, users, titles, types, blobs, comments, added, deploys)
	if err != nil {
		return err
	}
	return s.logKeys(ctx, tx, KindKeyAdd, recs)
}

// RemoveKey removes the key with fingerprint fp, with a key-remove
// change, and returns its record. A key not in the table is an error
// wrapping keys.ErrNotFound.
func (s *Store) RemoveKey(ctx context.Context, fp string) (keys.Record, error) {
	if err := checkFingerprint(fp); err != nil {
		return keys.Record{}, err
	}
	var removed []keys.Record
	err := s.write(ctx, "remove key", func(tx pgx.Tx) error {
		var err error
		removed, err = s.deleteKeys(ctx, tx, `fingerprint = $1`, fp)
		if err == nil && len(removed) == 0 {
			err = fmt.Errorf("key %s: %w", fp, keys.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return keys.Record{}, err
	}
	return removed[0], nil
}

// RemoveKeys removes the keys with the given fingerprints, as
// keys.Store.Remove does, and returns how many were there: fingerprints
// not in the table are no error.
func (s *Store) RemoveKeys(ctx context.Context, fps ...string) (removed int, err error) {
	for _, fp := range fps {
		if err := checkFingerprint(fp); err != nil {
			return 0, err
		}
	}
	err = s.write(ctx, "remove keys", func(tx pgx.Tx) error {
		recs, err := s.deleteKeys(ctx, tx, `fingerprint = ANY($1)`, fps)
		removed = len(recs)
		return err
	})
	return removed, err
}

// RemoveUser removes every key of user and returns how many there were.
func (s *Store) RemoveUser(ctx context.Context, user string) (removed int, err error) {
	if err := keys.ValidUsername(user); err != nil {
		return 0, err
	}
	err = s.write(ctx, "remove user", func(tx pgx.Tx) error {
		recs, err := s.deleteKeys(ctx, tx, `username = $1`, user)
		removed = len(recs)
		return err
	})
	return removed, err
}

// RemoveOwn removes the key fp if, and only if, it belongs to user, as
// keys.Store.RemoveOwn does: keys.ErrNotFound for a key that is absent or
// another user's, and with keepLast, keys.ErrLastKey when fp is user's
// only key. Writers are serialised (WriteLock), so the count it checks
// cannot change before it commits.
func (s *Store) RemoveOwn(ctx context.Context, user, fp string, keepLast bool) error {
	if err := keys.ValidUsername(user); err != nil {
		return err
	}
	if err := checkFingerprint(fp); err != nil {
		return err
	}
	return s.write(ctx, "remove key", func(tx pgx.Tx) error {
		var n int
		err := tx.QueryRow(ctx, `SELECT count(*) FROM gitserver_keys WHERE username = $1`, user).Scan(&n)
		if err != nil {
			return err
		}
		var owner string
		err = tx.QueryRow(ctx, `SELECT username FROM gitserver_keys WHERE fingerprint = $1`, fp).Scan(&owner)
		switch {
		case errors.Is(err, pgx.ErrNoRows) || err == nil && owner != user:
			return keys.ErrNotFound
		case err != nil:
			return err
		case keepLast && n <= 1:
			return keys.ErrLastKey
		}
		_, err = s.deleteKeys(ctx, tx, `fingerprint = $1`, fp)
		return err
	})
}

// deleteKeys deletes the keys that match where (a condition on $1, arg)
// and logs a key-remove change for each.
func (s *Store) deleteKeys(ctx context.Context, tx pgx.Tx, where string, arg any) ([]keys.Record, error) {
	rows, err := tx.Query(ctx, `DELETE FROM gitserver_keys WHERE `+where+`
		RETURNING fingerprint, username, title, key_type, key_blob, comment, added, deploy`, arg)
	if err != nil {
		return nil, err
	}
	var recs []keys.Record
	var r keys.Record
	var deploy []byte
	dest := []any{&r.Key.Fingerprint, &r.User, &r.Title, &r.Key.Type, &r.Key.Blob, &r.Key.Comment, &r.Added, &deploy}
	_, err = pgx.ForEachRow(rows, dest, func() error {
		c, _ := copied(r, deploy) // a damaged row can still be removed
		recs = append(recs, c)
		return nil
	})
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	return recs, s.logKeys(ctx, tx, KindKeyRemove, recs)
}

// checkFingerprint checks that fp has the SHA256:... form.
func checkFingerprint(fp string) error {
	const prefix, n = "SHA256:", 43
	if len(fp) != len(prefix)+n || fp[:len(prefix)] != prefix {
		return fmt.Errorf("pgstore: %s is not a SHA256 fingerprint; want the SHA256:... form that ssh-keygen -l prints", keys.Quote(fp))
	}
	return nil
}

// entry is one change to log: its kind, the key it changes ("" for the
// policy) and its payload.
type entry struct {
	kind, fp string
	payload  []byte
}

// logKeys logs a change of kind for each record.
func (s *Store) logKeys(ctx context.Context, tx pgx.Tx, kind string, recs []keys.Record) error {
	entries := make([]entry, len(recs))
	for i, r := range recs {
		p, err := encodePayload(r)
		if err != nil {
			return err
		}
		entries[i] = entry{kind, r.Key.Fingerprint, p}
	}
	_, err := s.logChanges(ctx, tx, entries)
	return err
}

// logChanges appends entries to the log, with ids taken under WriteLock,
// notifies Channel of the last id and returns it.
func (s *Store) logChanges(ctx context.Context, tx pgx.Tx, entries []entry) (last int64, err error) {
	n := len(entries)
	// Under WriteLock no one else takes ids: reserve n at once.
	err = tx.QueryRow(ctx, `SELECT setval('gitserver_change_id', nextval('gitserver_change_id') + $1 - 1)`, n).Scan(&last)
	if err != nil {
		return 0, err
	}
	ids, kinds, fps, payloads := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
	for i, e := range entries {
		ids[i], kinds[i], fps[i], payloads[i] = last-int64(n-1-i), e.kind, e.fp, string(e.payload)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO gitserver_changes (id, kind, fingerprint, payload)
		SELECT id, kind, fp, p::jsonb FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(id, kind, fp, p)`,
		ids, kinds, fps, payloads); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, strconv.FormatInt(last, 10)); err != nil {
		return 0, err
	}
	if s.beforeCommit != nil {
		s.beforeCommit()
	}
	return last, nil
}

// result wraps the error of a write: the store's own refusals (conflicts,
// a key not found, a last key) as they are, others through fail.
func (s *Store) result(ctx context.Context, op string, err error) error {
	var ce *keys.ConflictError
	if errors.As(err, &ce) || errors.Is(err, keys.ErrNotFound) || errors.Is(err, keys.ErrLastKey) {
		return fmt.Errorf("pgstore: %w", err)
	}
	return s.fail(ctx, op, err)
}
