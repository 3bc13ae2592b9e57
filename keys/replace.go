package keys

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// replaceBatch is how many records ReplaceAll writes per transaction of
// the new file, which no one else reads yet.
const replaceBatch = 5000

// ReplaceAll replaces the whole store by the records each passes to
// yield, with the lastID each returns as the replica's last change (the
// state those records are in) and now as the time it was current (see
// ApplyReplica). An error from each, returned by it or by yield, stops
// ReplaceAll and leaves the store as it was.
//
// It builds a new file beside the store, with the options' mode and
// owner, and renames it into place under the store's write lock. Lookups
// go on meanwhile: one that opened the old file reads it whole, the next
// opens the new one; none waits longer than for one short write. The
// rename is atomic, so a crash leaves the old store or the new one (and
// at worst a stray ".replace-" file). A record that fails Record.Check,
// or two records of one key, stop it.
func (s *Store) ReplaceAll(each func(yield func(Record) error) (lastID int64, err error)) error {
	dir := filepath.Dir(s.path)
	tmp, err := s.tempFile(dir, "."+filepath.Base(s.path)+".replace-*")
	if err != nil {
		return fmt.Errorf("keys: replace store %s: %w", s.path, err)
	}
	defer os.Remove(tmp) // after the rename, there is nothing there
	if err := s.build(tmp, each); err != nil {
		return err
	}
	err = s.update(true, func(*bolt.Tx) error { return os.Rename(tmp, s.path) })
	if err != nil {
		return fmt.Errorf("keys: replace store %s: %w", s.path, err)
	}
	syncDir(dir)
	return nil
}

// build writes the records of each and the replica state into the new
// file at path, and syncs it.
func (s *Store) build(path string, each func(yield func(Record) error) (int64, error)) error {
	db, err := bolt.Open(path, s.opt.Mode, &bolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		return fmt.Errorf("keys: replace store %s: %w", s.path, err)
	}
	defer db.Close()
	var batch []Record
	flush := func() error {
		err := db.Update(func(tx *bolt.Tx) error { return putAll(tx, batch) })
		batch = batch[:0]
		return err
	}
	lastID, err := each(func(r Record) error {
		if err := r.Check(); err != nil {
			return fmt.Errorf("keys: replace: %s: %w", r.Key.Fingerprint, err)
		}
		if batch = append(batch, r); len(batch) == replaceBatch {
			return flush()
		}
		return nil
	})
	if err == nil && lastID < 0 {
		err = fmt.Errorf("keys: replace: replica change id %d is negative", lastID)
	}
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = db.Update(func(tx *bolt.Tx) error {
			rb, err := tx.CreateBucketIfNotExists(bucketReplica)
			if err == nil {
				err = putState(rb, lastID, time.Now())
			}
			return err
		})
	}
	if err == nil {
		err = db.Sync()
	}
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("keys: replace store %s: %w", s.path, cerr)
	}
	return err
}

// errDuplicate is a key given twice to ReplaceAll.
var errDuplicate = errors.New("keys: replace: a key is given twice")

// putAll writes records into the buckets of a new file.
func putAll(tx *bolt.Tx, recs []Record) error {
	kb, ub, err := createBuckets(tx)
	if err != nil {
		return err
	}
	for _, r := range recs {
		r.Added = r.Added.UTC().Round(0)
		ok, err := put(kb, ub, r)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %s", errDuplicate, r.Key.Fingerprint)
		}
	}
	return nil
}
