package lfs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// OIDLen is the length of an object id: a SHA-256 in lowercase hex.
const OIDLen = 64

// ValidOID reports whether oid is 64 lowercase hex digits, the only form
// a path is ever built from.
func ValidOID(oid string) bool {
	if len(oid) != OIDLen {
		return false
	}
	for i := 0; i < len(oid); i++ {
		c := oid[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Errors of Put, for the status the client gets.
var (
	// ErrBadObject: the data is not the object: wrong size or hash.
	ErrBadObject = errors.New("lfs: object data does not match its id and size")
	// ErrNoSpace: the disk is full.
	ErrNoSpace = errors.New("lfs: no space left on the device")
)

// Objects is a repository's LFS object store, DIR/objects/aa/bb/OID
// under the repository's lfs directory, the layout git-lfs keeps in a
// client's .git/lfs. It follows the repository, on shared storage too.
type Objects struct {
	dir string // REPO.git/lfs
}

// NewObjects is the object store of the repository at repoDir.
func NewObjects(repoDir string) *Objects {
	return &Objects{dir: filepath.Join(repoDir, "lfs")}
}

// Path is where object oid lives; oid must be valid (ValidOID).
func (o *Objects) Path(oid string) string {
	return filepath.Join(o.dir, "objects", oid[0:2], oid[2:4], oid)
}

// tmpDir holds uploads in progress, on the objects' file system, so that
// a finished one is linked into place without a copy.
func (o *Objects) tmpDir() string { return filepath.Join(o.dir, "tmp") }

// Stat returns the size of object oid; fs.ErrNotExist when it is not
// here.
func (o *Objects) Stat(oid string) (int64, error) {
	if !ValidOID(oid) {
		return 0, fmt.Errorf("lfs: invalid object id: %w", fs.ErrNotExist)
	}
	fi, err := os.Stat(o.Path(oid))
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("lfs: %s is not a regular file: %w", o.Path(oid), fs.ErrNotExist)
	}
	return fi.Size(), nil
}

// Open opens object oid for reading, with its size.
func (o *Objects) Open(oid string) (*os.File, int64, error) {
	if !ValidOID(oid) {
		return nil, 0, fmt.Errorf("lfs: invalid object id: %w", fs.ErrNotExist)
	}
	f, err := os.Open(o.Path(oid))
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("lfs: %s is not a regular file: %w", o.Path(oid), fs.ErrNotExist)
	}
	return f, fi.Size(), nil
}

// Put stores object oid of size bytes read from r: streamed into a
// temporary file, its size and SHA-256 checked as it comes, synced, then
// linked into place, which never replaces an object already there (the
// same id is the same content). It reads r to its end or to the first
// error. Whatever goes wrong, no partial object is left and the
// temporary file is removed. ErrBadObject means the data was not the
// object; ErrNoSpace a full disk.
func (o *Objects) Put(oid string, size int64, r io.Reader) (err error) {
	if !ValidOID(oid) {
		return fmt.Errorf("lfs: invalid object id %q", oid)
	}
	if err := os.MkdirAll(o.tmpDir(), 0o755); err != nil {
		return noSpace(err)
	}
	f, err := os.CreateTemp(o.tmpDir(), oid[:12]+"-*")
	if err != nil {
		return noSpace(err)
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
		os.Remove(tmp)
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, size+1))
	switch {
	case err != nil:
		return noSpace(err)
	case n != size:
		return fmt.Errorf("%w: %d bytes, not %d", ErrBadObject, n, size)
	case hex.EncodeToString(h.Sum(nil)) != oid:
		return fmt.Errorf("%w: sha256 %x", ErrBadObject, h.Sum(nil))
	}
	if err := f.Chmod(0o444); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return noSpace(err)
	}
	if err := f.Close(); err != nil {
		return noSpace(err)
	}
	f = nil
	return o.link(tmp, oid)
}

// link puts the finished file tmp in place as object oid, unless it is
// there already, and syncs the directory.
func (o *Objects) link(tmp, oid string) error {
	dst := o.Path(oid)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return noSpace(err)
	}
	if err := os.Link(tmp, dst); err != nil && !errors.Is(err, fs.ErrExist) {
		return noSpace(err)
	}
	d, err := os.Open(filepath.Dir(dst))
	if err != nil {
		return err
	}
	defer d.Close()
	return noSpace(d.Sync())
}

// noSpace maps a full disk (or quota) to ErrNoSpace.
func noSpace(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %v", ErrNoSpace, err)
	}
	return err
}
