package lfs

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gitserver/gitserver/internal/bounded"
)

// MaxLockPath bounds a locked path, in bytes.
const MaxLockPath = 4096

// maxLockFile bounds a lock file as read back.
const maxLockFile = 2 * MaxLockPath

// Lock is one file lock of a repository.
type Lock struct {
	ID       string    `json:"id"`
	Path     string    `json:"path"`
	Owner    string    `json:"owner"`
	LockedAt time.Time `json:"locked_at"`
	Ref      string    `json:"ref,omitempty"` // the ref the client named, if any
}

// Errors of the lock store.
var (
	// ErrLockNotFound: no lock has that id.
	ErrLockNotFound = errors.New("lfs: lock not found")
	// ErrNotOwner: the lock is another user's, and force was not given.
	ErrNotOwner = errors.New("lfs: lock belongs to another user")
)

// ConflictError is Create's error when the path is locked already: Held
// is that lock.
type ConflictError struct{ Held Lock }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("lfs: %q is already locked by %s", e.Held.Path, e.Held.Owner)
}

// Locks is a repository's lock store: one file per locked path in the
// repository's lfs/locks directory, so that it lives with the repository
// (on shared storage every frontend sees the same locks). A lock file is
// created by link(2), which fails when the name exists, so of two users
// locking one path at once, on one host or two, exactly one wins.
// Removals hold an flock on the directory's .lock file, so that a lock
// is removed only by the request that checked it.
type Locks struct {
	dir string
}

// NewLocks is the lock store of the repository at repoDir.
func NewLocks(repoDir string) *Locks {
	return &Locks{dir: filepath.Join(repoDir, "lfs", "locks")}
}

// CheckLockPath checks a path a client asks to lock: a non-empty
// repository-relative path of printable UTF-8, at most MaxLockPath bytes.
func CheckLockPath(p string) error {
	switch {
	case p == "":
		return errors.New("lfs: empty lock path")
	case len(p) > MaxLockPath:
		return fmt.Errorf("lfs: lock path longer than %d bytes", MaxLockPath)
	case !utf8.ValidString(p):
		return errors.New("lfs: lock path is not valid utf-8")
	case strings.IndexFunc(p, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return errors.New("lfs: control character in lock path")
	}
	return nil
}

// file is where the lock of path p lives: named by its hash, so any path
// makes a safe name.
func (l *Locks) file(p string) string {
	sum := sha256.Sum256([]byte(p))
	return filepath.Join(l.dir, hex.EncodeToString(sum[:]))
}

// Create locks path p for owner, or returns a *ConflictError with the
// lock that holds it.
func (l *Locks) Create(p, owner, ref string, now time.Time) (Lock, error) {
	if err := CheckLockPath(p); err != nil {
		return Lock{}, err
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return Lock{}, err
	}
	lk := Lock{ID: hex.EncodeToString(id[:]), Path: p, Owner: owner, LockedAt: now.UTC().Truncate(time.Second), Ref: ref}
	b, err := json.Marshal(lk)
	if err != nil {
		return Lock{}, err
	}
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return Lock{}, noSpace(err)
	}
	tmp, err := writeTemp(l.dir, b)
	if err != nil {
		return Lock{}, err
	}
	defer os.Remove(tmp)
	for try := 0; ; try++ {
		err = os.Link(tmp, l.file(p))
		if err == nil {
			return lk, syncDir(l.dir)
		}
		if !errors.Is(err, fs.ErrExist) {
			return Lock{}, noSpace(err)
		}
		held, rerr := readLock(l.file(p))
		if errors.Is(rerr, fs.ErrNotExist) && try < 3 {
			continue // unlocked just now: try again
		}
		if rerr != nil {
			return Lock{}, fmt.Errorf("lfs: %q is locked, but its lock is unreadable: %w", p, rerr)
		}
		return Lock{}, &ConflictError{Held: held}
	}
}

// writeTemp writes b to a new synced file in dir and returns its name.
func writeTemp(dir string, b []byte) (string, error) {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", noSpace(err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", noSpace(err)
	}
	return f.Name(), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func readLock(name string) (Lock, error) {
	f, err := os.Open(name)
	if err != nil {
		return Lock{}, err
	}
	defer f.Close()
	b, err := bounded.ReadAll(f, maxLockFile, "lock file "+name)
	if err != nil {
		return Lock{}, fmt.Errorf("lfs: %w", err)
	}
	var lk Lock
	if err := json.Unmarshal(b, &lk); err != nil {
		return Lock{}, fmt.Errorf("lfs: lock file %s: %w", name, err)
	}
	return lk, nil
}

// List returns every lock, ordered by id.
func (l *Locks) List() ([]Lock, error) {
	ents, err := os.ReadDir(l.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Lock
	for _, e := range ents {
		if len(e.Name()) != 2*sha256.Size || !e.Type().IsRegular() {
			continue // .lock, temporary files
		}
		lk, err := readLock(filepath.Join(l.dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // unlocked meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, lk)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Remove removes lock id for user. Another user's lock needs force
// (whether user may force is the caller's decision); else ErrNotOwner.
func (l *Locks) Remove(id, user string, force bool) (Lock, error) {
	unlock, err := l.flock()
	if err != nil {
		return Lock{}, err
	}
	defer unlock()
	all, err := l.List()
	if err != nil {
		return Lock{}, err
	}
	for _, lk := range all {
		if lk.ID != id {
			continue
		}
		if lk.Owner != user && !force {
			return lk, ErrNotOwner
		}
		if err := os.Remove(l.file(lk.Path)); err != nil {
			return Lock{}, err
		}
		return lk, syncDir(l.dir)
	}
	return Lock{}, ErrLockNotFound
}

// flock takes the directory's removal lock.
func (l *Locks) flock() (func(), error) {
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return nil, noSpace(err)
	}
	f, err := os.OpenFile(filepath.Join(l.dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}
