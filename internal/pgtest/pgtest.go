// Package pgtest runs a real PostgreSQL server for tests: initdb in a temp
// dir, postgres listening only on a unix socket in that dir, trust
// authentication, the server's log in the output of a failed test.
//
// Start gives each test a fresh database. With Main as the package's
// TestMain, one server serves every test of the binary and stops when they
// end; without it, each Start runs its own server, stopped in t.Cleanup.
//
// PostgreSQL refuses to run as root. Run as root, pgtest runs the server
// as the system user named by User, which it creates with useradd if
// missing, and gives it the temp dir; otherwise the server runs as the
// test's own user. With CI set, a missing PostgreSQL fails the test
// instead of skipping it.
//
// # Security
//
// Trust authentication lets any local user who can reach the socket
// connect as superuser. The socket's directory is a fresh temp dir that
// lives as long as the tests; never point pgtest at data that matters.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// User is the system user the server runs as when the tests run as root.
const User = "gitserver-pgtest"

// superuser is the database superuser initdb creates.
const superuser = "postgres"

var (
	shared     *server // the server of Main, started by the first Start
	sharedErr  error
	sharedOnce sync.Once
	inMain     bool
	databases  atomic.Int64
)

// Main runs the tests of m with one server for all of them and stops it
// after them. Use it as TestMain: func TestMain(m *testing.M) { pgtest.Main(m) }.
// The server starts only if a test calls Start.
func Main(m *testing.M) {
	inMain = true
	code := m.Run()
	if shared != nil {
		if err := shared.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	}
	os.Exit(code)
}

// Start returns the connection string of a fresh, empty database on a
// running server. It skips the test if PostgreSQL is not installed, or
// fails it if CI is set.
func Start(t testing.TB) (dsn string) {
	t.Helper()
	bindir, err := findBinaries()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %v", err)
		}
		t.Skip(err)
	}
	srv := serverFor(t, bindir)
	from := srv.logSize()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("PostgreSQL log:\n%s", srv.logSince(from))
		}
	})
	name := fmt.Sprintf("pgtest_%d", databases.Add(1))
	if err := srv.createDatabase(name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return srv.dsn(name)
}

// serverFor returns the shared server, or under no Main a server for t.
func serverFor(t testing.TB, bindir string) *server {
	t.Helper()
	if inMain {
		sharedOnce.Do(func() { shared, sharedErr = startServer(bindir) })
		if sharedErr != nil {
			t.Fatalf("pgtest: %v", sharedErr)
		}
		return shared
	}
	srv, err := startServer(bindir)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.stop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return srv
}

// createDatabase creates an empty database on srv.
func (s *server) createDatabase(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.dsn("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// Server is a PostgreSQL server of one test's own, which the test stops
// and starts again (to see what gitserver does while it is away).
type Server struct{ s *server }

// StartOwn starts a server for t alone, stopped and removed in
// t.Cleanup, and returns it with the connection string of a fresh
// database on it. It skips or fails as Start does.
func StartOwn(t testing.TB) (dsn string, srv *Server) {
	t.Helper()
	bindir, err := findBinaries()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %v", err)
		}
		t.Skip(err)
	}
	s, err := startServer(bindir)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("PostgreSQL log:\n%s", s.logSince(0))
		}
		if err := s.stop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	name := fmt.Sprintf("pgtest_%d", databases.Add(1))
	if err := s.createDatabase(name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return s.dsn(name), &Server{s}
}

// Stop shuts the server down (fast shutdown: connections are cut),
// keeping its data, and returns once it has exited.
func (srv *Server) Stop() error { return srv.s.halt() }

// Start starts the stopped server again, on the same socket and data,
// and returns once it accepts connections.
func (srv *Server) Start() error { return srv.s.run(srv.s.bindir, srv.s.cred) }
