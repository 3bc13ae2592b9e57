package keys

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotFound is returned by Lookup for a key that is not in the store.
var ErrNotFound = errors.New("keys: key not found")

// ErrNoStore is returned when the store file does not exist yet, or exists
// but was never written. It wraps ErrNotFound, so a caller that only asks
// errors.Is(err, ErrNotFound) treats an absent store as an empty one.
var ErrNoStore = fmt.Errorf("%w: the store has no keys yet", ErrNotFound)

// errBusy is returned when another process held the store's lock too long.
var errBusy = errors.New("keys: store is busy: another process held its lock too long; try again")

// ConflictError reports a key that already belongs to another user. Adding
// it would let one person log in as two users, so the store refuses.
type ConflictError struct {
	Fingerprint string // the key
	Owner       string // the user who owns it now
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("keys: key %s already belongs to user %q; remove it there first", e.Fingerprint, e.Owner)
}

// Defaults for Options.
const (
	DefaultMode         os.FileMode = 0o640
	DefaultWriteTimeout             = 5 * time.Second
	DefaultReadTimeout              = 2 * time.Second
)

// Options says how the store file is created and locked. The zero value is
// usable: mode 0640, owner left as the creating process, default timeouts.
type Options struct {
	// Mode is the permission of a newly created store file, applied
	// exactly (the umask does not narrow it). Zero means DefaultMode.
	// An existing file keeps its mode.
	Mode os.FileMode

	// Chown, if true, gives a newly created store file the owner UID and
	// group GID; a value below zero leaves that one unchanged. If Chown is
	// false, UID and GID are ignored: their zero values would mean root,
	// so they take effect only when asked for.
	Chown    bool
	UID, GID int

	// MaxLag, when positive, makes the store a replica that Lookup
	// refuses to answer from (a *StaleError) when it was last confirmed
	// current more than MaxLag ago, or never: logins fail closed on a
	// host whose replica fell behind. Zero means no bound.
	MaxLag time.Duration

	// Source, if set, takes the store's writes (Add, Import, Remove,
	// RemoveUser, RemoveOwn): the store is the replica of Source, and
	// reads stay local. Without it, those writes to a replica fail with
	// ErrReplica.
	Source Source

	// Timeout is how long an operation waits for the file lock. Zero
	// means DefaultWriteTimeout for writers and DefaultReadTimeout for
	// readers.
	Timeout time.Duration
}

// Store is a key store in one bbolt file. It holds only the path and the
// options: every method opens the file, runs one short transaction and
// closes it, so a Store keeps no file open and no lock between calls, and
// any number of processes may use the same file. A Store is safe for
// concurrent use.
type Store struct {
	path string
	opt  Options
}

// Open returns the store at path. It does not touch the file; the first
// write creates it, and reads of an absent file return ErrNoStore or
// nothing.
func Open(path string, opt Options) *Store {
	if opt.Mode == 0 {
		opt.Mode = DefaultMode
	}
	return &Store{path: path, opt: opt}
}

// Path returns the path of the store file.
func (s *Store) Path() string { return s.path }

// view runs fn in a read-only transaction on a read-only open of the file,
// under a shared lock that only a writer's exclusive lock excludes.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	db, err := s.open(false, false)
	if err != nil {
		return err
	}
	err = db.View(fn)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("keys: close store %s: %w", s.path, cerr)
	}
	return err
}

// update runs fn in one write transaction under the exclusive lock, which
// it holds from open to close. With create, an absent file is created.
// When update returns nil, the transaction is on disk (fdatasync).
func (s *Store) update(create bool, fn func(*bolt.Tx) error) error {
	db, err := s.open(true, create)
	if err != nil {
		return err
	}
	err = db.Update(fn)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("keys: close store %s: %w", s.path, cerr)
	}
	time.Sleep(writePause)
	return err
}

// writePause is how long a writer waits after releasing the lock before it
// returns. Without it, a caller that writes in a loop (Import in batches)
// would take the lock again within microseconds, before the lookups
// waiting for it are scheduled, and could keep them waiting past their
// timeout.
const writePause = 2 * time.Millisecond

// open opens the bbolt file for reading or writing.
func (s *Store) open(write, create bool) (*bolt.DB, error) {
	timeout := s.opt.Timeout
	if timeout <= 0 {
		timeout = DefaultReadTimeout
		if write {
			timeout = DefaultWriteTimeout
		}
	}
	opts := &bolt.Options{
		ReadOnly: !write,
		Timeout:  timeout,
		OpenFile: func(path string, _ int, _ os.FileMode) (*os.File, error) {
			return s.openFile(path, write, create, timeout)
		},
	}
	db, err := bolt.Open(s.path, s.opt.Mode, opts)
	if errors.Is(err, ErrNoStore) || errors.Is(err, errBusy) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("keys: open store %s: %w", s.path, err)
	}
	return db, nil
}

// openFile is bbolt's OpenFile hook: it opens (and, with create, creates)
// the file and locks it. A file of size zero, left by a writer that created
// it and has not yet initialised it, or died first, is no store to a reader.
func (s *Store) openFile(path string, write, create bool, timeout time.Duration) (*os.File, error) {
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err := s.createFile(path); err != nil {
			return nil, fmt.Errorf("create: %w", err)
		}
		f, err = os.OpenFile(path, flag, 0)
	}
	if errors.Is(err, fs.ErrNotExist) && !create {
		return nil, ErrNoStore
	}
	if err != nil {
		return nil, err
	}
	if err := lockFile(f, write, timeout); err != nil {
		f.Close()
		return nil, err
	}
	if write && !samePath(f, path) {
		// ReplaceAll renamed a new file into place while we waited
		// for the lock: write that one, not the one it replaced.
		f.Close()
		return s.openFile(path, write, create, timeout)
	}
	if !write {
		if fi, err := f.Stat(); err != nil || fi.Size() == 0 {
			f.Close()
			return nil, ErrNoStore
		}
	}
	return f, nil
}

// createFile creates an empty store file with the mode and owner of the
// options. It prepares a temporary file and links it into place, so the
// file never exists at path with another mode or owner; if another process
// created it first, that file is kept.
func (s *Store) createFile(path string) error {
	dir := filepath.Dir(path)
	tmp, err := s.tempFile(dir, "."+filepath.Base(path)+".new-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	syncDir(dir)
	return nil
}

// tempFile creates an empty file in dir, named by pattern as for
// os.CreateTemp, with the mode and owner of the options, and returns its
// name.
func (s *Store) tempFile(dir, pattern string) (string, error) {
	tmp, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	err = tmp.Chmod(s.opt.Mode)
	if err == nil && s.opt.Chown {
		err = tmp.Chown(s.opt.UID, s.opt.GID)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

// syncDir makes the names in dir durable; best effort.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// samePath reports whether f is still the file at path.
func samePath(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Stat(path)
	return err == nil && os.SameFile(fi, pi)
}
