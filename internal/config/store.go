package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gitserver/gitserver/internal/bounded"
)

// Store names the shared state: PostgreSQL, the source of truth of the
// keys when several hosts serve the same users ('gitserver replicate'
// keeps each host's key store a replica of it). The zero value means no
// shared state: the local key store is all there is.
type Store struct {
	// Postgres is a libpq connection string or URL
	// ("postgres://gitserver@db/gitserver"). The config file is often
	// readable by all: put a password in DSNFile instead.
	Postgres string `toml:"postgres"`
	// DSNFile is an absolute path to a file holding the connection
	// string on one line. It must not be readable by others (mode 0600
	// or 0640), since the string may hold a password.
	DSNFile string `toml:"dsn_file"`
	// MaxLag bounds how long ago the replica may have been confirmed
	// current: beyond it, logins on this host fail closed (a partitioned
	// host must not honour a revoked key for ever). Default 5m.
	MaxLag Duration `toml:"max_lag"`
}

// DefaultMaxLag is max_lag when the config leaves it out.
const DefaultMaxLag = Duration(5 * time.Minute)

// Lag is the replica's max_lag when a store is configured, else 0 (no
// bound: the local key store is the source itself).
func (s *Store) Lag() time.Duration {
	if !s.Configured() {
		return 0
	}
	if s.MaxLag == 0 {
		return time.Duration(DefaultMaxLag)
	}
	return time.Duration(s.MaxLag)
}

// maxDSNSize bounds the dsn_file: a connection string is one short line.
const maxDSNSize = 4096

// Configured reports whether a PostgreSQL store is named.
func (s *Store) Configured() bool { return s.Postgres != "" || s.DSNFile != "" }

func (s *Store) validate() error {
	if s.Postgres != "" && s.DSNFile != "" {
		return errors.New("store: set postgres or dsn_file, not both")
	}
	if s.DSNFile != "" && !filepath.IsAbs(s.DSNFile) {
		return fmt.Errorf("store.dsn_file %q: want an absolute path", s.DSNFile)
	}
	if s.MaxLag < 0 || s.MaxLag > 0 && time.Duration(s.MaxLag) < 2*time.Second {
		return fmt.Errorf("store.max_lag must be at least 2s (replicate confirms every second), e.g. \"5m\"")
	}
	return nil
}

// DSN returns the connection string: Postgres, or the first line of
// DSNFile, which is refused if others may read it. It never puts the
// string in an error.
func (s *Store) DSN() (string, error) {
	switch {
	case s.Postgres != "":
		return s.Postgres, nil
	case s.DSNFile == "":
		return "", errors.New(`store: no PostgreSQL configured; set [store] postgres = "postgres://..." or dsn_file = "/etc/gitserver/pg.dsn"`)
	}
	return readDSN(s.DSNFile)
}

// readDSN reads the connection string in the file at path.
func readDSN(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("store.dsn_file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("store.dsn_file: %w", err)
	}
	if m := fi.Mode(); !m.IsRegular() || m.Perm()&0o004 != 0 {
		return "", fmt.Errorf("store.dsn_file %s is readable by others (mode %04o) and may hold a password; run: chmod o-rwx %s", path, m.Perm(), path)
	}
	data, err := bounded.ReadAll(f, maxDSNSize, "store.dsn_file "+path)
	if err != nil {
		return "", fmt.Errorf("%w; want one connection string", err)
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	dsn := string(bytes.TrimSpace(line))
	if dsn == "" {
		return "", fmt.Errorf("store.dsn_file %s: the first line is empty; want a connection string", path)
	}
	return dsn, nil
}
