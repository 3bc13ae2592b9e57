package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// startTimeout bounds initdb, the wait for the server, and its shutdown.
const startTimeout = 60 * time.Second

// server is a running postgres in its own temp dir.
type server struct {
	dir    string // holds data/, the socket and postgres.log
	bindir string
	cred   *syscall.Credential // whom postgres runs as; nil: this process
	cmd    *exec.Cmd
	exited chan struct{} // closed when postgres has exited
	err    error         // postgres's exit status, once exited is closed
}

// findBinaries returns the directory of initdb and postgres:
// pg_config --bindir, else the newest /usr/lib/postgresql/*/bin.
func findBinaries() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if hasBinaries(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, dir := range dirs {
		if hasBinaries(dir) {
			return dir, nil
		}
	}
	return "", errors.New("PostgreSQL not found: no initdb and postgres from pg_config --bindir or in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
}

func hasBinaries(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	return true
}

// versionOf returns the major version in /usr/lib/postgresql/N/bin, or 0.
func versionOf(dir string) int {
	var n int
	fmt.Sscanf(filepath.Base(filepath.Dir(dir)), "%d", &n)
	return n
}

// startServer runs initdb and postgres, and returns once the server
// accepts connections.
func startServer(bindir string) (*server, error) {
	cred, err := serverUser()
	if err != nil {
		return nil, err
	}
	// Short: the socket path must stay under about 100 bytes.
	dir, err := os.MkdirTemp("", "pgtest")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, bindir: bindir, cred: cred, exited: make(chan struct{})}
	if err := s.prepareDir(cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.initdb(bindir, cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.run(bindir, cred); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// prepareDir makes the dir and the log file the server user's.
func (s *server) prepareDir(cred *syscall.Credential) error {
	if err := os.Chmod(s.dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(s.logPath(), nil, 0o644); err != nil {
		return err
	}
	if cred == nil {
		return nil
	}
	for _, p := range []string{s.dir, s.logPath()} {
		if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
	}
	return nil
}

func (s *server) logPath() string { return filepath.Join(s.dir, "postgres.log") }

// command returns a command run as cred (nil: as this process), in the
// server's dir, with a small environment of its own, stopped if the test
// binary dies (a test timeout) where the system allows.
func (s *server) command(cred *syscall.Credential, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = s.dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	stopWithParent(cmd.SysProcAttr)
	return cmd
}

func (s *server) initdb(bindir string, cred *syscall.Credential) error {
	cmd := s.command(cred, filepath.Join(bindir, "initdb"),
		"--pgdata", filepath.Join(s.dir, "data"), "--username", superuser,
		"--auth", "trust", "--encoding", "UTF8", "--locale", "C", "--no-sync")
	out, err := cmd.CombinedOutput()
	if err != nil {
		hint := ""
		if cred != nil {
			hint = fmt.Sprintf(" (can user %s reach %s? set TMPDIR to a directory it can)", User, s.dir)
		}
		return fmt.Errorf("initdb%s: %v\n%s", hint, err, out)
	}
	return nil
}

// run starts postgres, on the socket only, and waits until a connection
// succeeds or postgres exits.
func (s *server) run(bindir string, cred *syscall.Credential) error {
	log, err := os.OpenFile(s.logPath(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	defer log.Close()
	s.cmd = s.command(cred, filepath.Join(bindir, "postgres"),
		"-D", filepath.Join(s.dir, "data"), "-k", s.dir, "-F",
		"-c", "listen_addresses=", "-c", "unix_socket_permissions=0777",
		"-c", "max_connections=100")
	s.cmd.Stdout, s.cmd.Stderr = log, log
	s.exited = make(chan struct{})
	if err := s.cmd.Start(); err != nil {
		close(s.exited)
		return fmt.Errorf("postgres: %v", err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	return s.waitReady()
}

// waitReady polls a connection until one succeeds, postgres exits, or
// startTimeout passes.
func (s *server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, s.dsn("postgres"))
		if err == nil {
			conn.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		select {
		case <-s.exited:
			return fmt.Errorf("postgres exited before accepting connections: %v\n%s", s.err, s.logSince(0))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within %v: %v\n%s", startTimeout, err, s.logSince(0))
		}
	}
}

// stop shuts postgres down (halt) and removes its dir.
func (s *server) stop() error {
	defer os.RemoveAll(s.dir)
	return s.halt()
}

// halt shuts postgres down, fast shutdown then kill, keeping its data.
func (s *server) halt() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	select {
	case <-s.exited:
		return nil
	default:
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
		return nil
	case <-time.After(startTimeout):
		s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("postgres did not shut down within %v; killed it", startTimeout)
	}
}

// dsn returns the connection string of database name.
func (s *server) dsn(name string) string {
	return fmt.Sprintf("host=%s port=5432 user=%s dbname=%s sslmode=disable", s.dir, superuser, name)
}

// logSize returns the current length of the server log.
func (s *server) logSize() int64 {
	fi, err := os.Stat(s.logPath())
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logSince returns the server log from offset from on.
func (s *server) logSince(from int64) string {
	data, err := os.ReadFile(s.logPath())
	if err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	if from > int64(len(data)) {
		from = 0
	}
	return string(bytes.TrimSpace(data[from:]))
}
