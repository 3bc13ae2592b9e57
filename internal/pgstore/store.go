package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the shared state in one PostgreSQL database. It is safe for
// concurrent use; Close releases its connections.
type Store struct {
	pool  *pgxpool.Pool
	where string // host, port and database, for errors; never the password

	// beforeCommit, if set, runs in every writing transaction after its
	// changes are logged, just before it commits: tests hold writers there.
	beforeCommit func()
}

// Open connects to the database named by dsn, a libpq connection string
// or URL, and checks that it answers. It does not create or migrate the
// schema: see Migrate.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the dsn, password included: not shown.
		return nil, errors.New("pgstore: cannot parse the PostgreSQL connection string; see https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING")
	}
	s := &Store{where: describe(cfg.ConnConfig.Config)}
	s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, s.fail(ctx, "connect", err)
	}
	if err := s.pool.Ping(ctx); err != nil {
		s.pool.Close()
		return nil, s.fail(ctx, "connect", err)
	}
	return s, nil
}

// Close closes the store's connections.
func (s *Store) Close() { s.pool.Close() }

// describe names the server and database of cfg, without credentials.
func describe(cfg pgconn.Config) string {
	return cfg.Host + ":" + strconv.Itoa(int(cfg.Port)) + "/" + cfg.Database
}

// fail wraps an error of operation op. An error the server sent (a
// *pgconn.PgError) is wrapped as it is; any other, but a cancelled
// context, means the server could not be reached, and says so.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr), ctx.Err() != nil:
		return fmt.Errorf("pgstore: %s: %w", op, err)
	}
	return fmt.Errorf("pgstore: %s: cannot reach PostgreSQL at %s: %w; logins go on from the local replica, retry once it is back", op, s.where, err)
}
