package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrations are the schema changes, in order: migrations[i] takes the
// schema from version i to i+1. Never edit one that has shipped; add one.
var migrations = []string{
	// 1: keys and the change log.
	`CREATE TABLE gitserver_keys (
		fingerprint text PRIMARY KEY,
		username    text NOT NULL,
		title       text NOT NULL,
		key_type    text NOT NULL,
		key_blob    bytea NOT NULL,
		comment     text NOT NULL,
		added       timestamptz NOT NULL
	);
	CREATE INDEX gitserver_keys_username ON gitserver_keys (username, fingerprint);
	CREATE SEQUENCE gitserver_change_id AS bigint;
	CREATE TABLE gitserver_changes (
		id          bigint PRIMARY KEY,
		kind        text NOT NULL CHECK (kind IN ('key-add', 'key-remove')),
		fingerprint text NOT NULL,
		payload     jsonb NOT NULL,
		committed   timestamptz NOT NULL DEFAULT now()
	);`,
	// 2: the policy document, versioned: each version is the id of its
	// policy change.
	`ALTER TABLE gitserver_changes DROP CONSTRAINT gitserver_changes_kind_check;
	ALTER TABLE gitserver_changes ADD CONSTRAINT gitserver_changes_kind_check
		CHECK (kind IN ('key-add', 'key-remove', 'policy'));
	CREATE TABLE gitserver_policy (
		version   bigint PRIMARY KEY,
		document  bytea NOT NULL,
		sha256    text NOT NULL,
		pushed_by text NOT NULL,
		pushed_at timestamptz NOT NULL DEFAULT now()
	);`,
	// 3: deploy keys: a key's grant (keys.Deploy as JSON), NULL for a
	// person's key.
	`ALTER TABLE gitserver_keys ADD COLUMN deploy jsonb;`,
}

// SchemaVersion is the schema version this package writes and reads:
// len(migrations).
const SchemaVersion = 3

// Migrate brings the schema to SchemaVersion, in one transaction under
// WriteLock, so that hosts migrating at once apply each migration once
// and writers wait for it. It does nothing if the schema is current, and
// refuses a schema newer than this package knows.
func (s *Store) Migrate(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockWrites(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS gitserver_schema (
			one     boolean PRIMARY KEY DEFAULT true CHECK (one),
			version integer NOT NULL)`); err != nil {
			return err
		}
		v, err := schemaVersion(ctx, tx)
		if err != nil {
			return err
		}
		if v > SchemaVersion {
			return &newerSchemaError{v}
		}
		for ; v < SchemaVersion; v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migration to version %d: %w", v+1, err)
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO gitserver_schema (version) VALUES ($1)
			ON CONFLICT (one) DO UPDATE SET version = excluded.version`, v)
		return err
	})
	var ne *newerSchemaError
	if errors.As(err, &ne) {
		return fmt.Errorf("pgstore: %w", err)
	}
	if err != nil {
		return s.fail(ctx, "migrate", err)
	}
	return nil
}

// schemaVersion reads the version in gitserver_schema; 0 if none.
func schemaVersion(ctx context.Context, tx pgx.Tx) (int, error) {
	var v int
	err := tx.QueryRow(ctx, `SELECT version FROM gitserver_schema`).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// newerSchemaError reports a database migrated by a newer gitserver.
type newerSchemaError struct{ version int }

func (e *newerSchemaError) Error() string {
	return fmt.Sprintf("the database has schema version %d, this gitserver knows up to %d; upgrade gitserver on this host", e.version, SchemaVersion)
}
