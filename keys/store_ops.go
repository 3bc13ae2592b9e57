package keys

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The file holds two buckets, changed together in every transaction:
//
//	keys:  fingerprint → encoded record (see encodeRecord)
//	users: user + "\x00" + fingerprint → empty
//
// Lookup is one Get in keys. users serves List and RemoveUser by a prefix
// scan, without reading every key, and HasUser by one Seek to the prefix.
// '\x00' sorts before every byte allowed in a username, so users is
// ordered by user, then fingerprint, and a user's keys are contiguous.
//
// A Get walks the B+tree from the root: O(log n) page reads. With 4 KiB
// pages a branch page holds about a hundred fingerprints, so the tree is 3
// to 4 pages high at 1,000,000 keys: in practice a lookup costs the same
// at any store size. Opening the file reads only its two meta pages.
var (
	bucketKeys  = []byte("keys")
	bucketUsers = []byte("users")
)

// listPageSize is how many records List reads in one transaction; a
// variable so that tests can cross page boundaries with few keys.
var listPageSize = 1000

// Lookup returns the record of the key with the given fingerprint, in the
// "SHA256:..." form of ssh.FingerprintSHA256. It opens the file read-only
// and waits for a writer at most one write transaction (Options.Timeout at
// worst). It returns ErrNotFound, or ErrNoStore, which wraps ErrNotFound,
// if the key is not there, and a *StaleError from a replica too far
// behind (Options.MaxLag), whatever the key.
func (s *Store) Lookup(fp string) (Record, error) {
	if err := checkFingerprint(fp); err != nil {
		return Record{}, err
	}
	var rec Record
	err := s.view(func(tx *bolt.Tx) error {
		if s.opt.MaxLag > 0 {
			if err := checkFresh(tx, s.opt.MaxLag, time.Now()); err != nil {
				return err
			}
		}
		kb := tx.Bucket(bucketKeys)
		if kb == nil {
			return ErrNotFound
		}
		v := kb.Get([]byte(fp))
		if v == nil {
			return ErrNotFound
		}
		var err error
		rec, err = decodeRecord(fp, v)
		return err
	})
	return rec, err
}

// Add adds records all or nothing, in one transaction. A key the same user
// already has is skipped; a key of another user is a conflict. If any
// record is invalid or conflicts, nothing is written and the error lists
// every such record; errors.As finds a *ConflictError in it. added holds
// the records written, with Added set to now if it was zero.
func (s *Store) Add(recs []Record) (added []Record, err error) {
	if s.opt.Source != nil {
		return s.opt.Source.Add(recs)
	}
	recs, errs := prepare(recs, time.Now())
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	err = s.localUpdate(true, func(tx *bolt.Tx) error {
		added = nil
		kb, ub, err := createBuckets(tx)
		if err != nil {
			return err
		}
		var conflicts []error
		for _, r := range recs {
			ok, err := put(kb, ub, r)
			var ce *ConflictError
			if errors.As(err, &ce) {
				conflicts = append(conflicts, err)
			} else if err != nil {
				return err
			} else if ok {
				added = append(added, r)
			}
		}
		return errors.Join(conflicts...)
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// Import adds the good records in one transaction and reports the others
// in rejected: invalid records and conflicts. A key the same user already
// has is skipped, as in Add. err is the store failing (it cannot be
// opened or written), when nothing was added. Callers pass batches (of
// about 5000 records) so that each transaction, and the time others wait
// for it, stays short.
func (s *Store) Import(recs []Record) (added int, rejected []error, err error) {
	if s.opt.Source != nil {
		return s.opt.Source.Import(recs)
	}
	good, errs := prepare(recs, time.Now())
	err = s.localUpdate(true, func(tx *bolt.Tx) error {
		added = 0
		kb, ub, err := createBuckets(tx)
		if err != nil {
			return err
		}
		for _, r := range good {
			ok, err := put(kb, ub, r)
			var ce *ConflictError
			if errors.As(err, &ce) {
				errs = append(errs, err)
			} else if err != nil {
				return err
			} else if ok {
				added++
			}
		}
		return nil
	})
	if err != nil {
		return 0, errs, err
	}
	return added, errs, nil
}

// prepare validates records and sets a zero Added to now.
func prepare(recs []Record, now time.Time) ([]Record, []error) {
	good := make([]Record, 0, len(recs))
	var errs []error
	for i, r := range recs {
		if err := r.Check(); err != nil {
			errs = append(errs, fmt.Errorf("record %d (%s): %w", i+1, r.Key.Fingerprint, err))
			continue
		}
		if r.Added.IsZero() {
			r.Added = now
		}
		r.Added = r.Added.UTC().Round(0)
		good = append(good, r)
	}
	return good, errs
}

// createBuckets returns the two buckets, creating them if needed.
func createBuckets(tx *bolt.Tx) (kb, ub *bolt.Bucket, err error) {
	if kb, err = tx.CreateBucketIfNotExists(bucketKeys); err != nil {
		return nil, nil, err
	}
	if ub, err = tx.CreateBucketIfNotExists(bucketUsers); err != nil {
		return nil, nil, err
	}
	return kb, ub, nil
}

// put writes r unless its key is there already. It reports whether it
// wrote, and returns a *ConflictError if another user owns the key.
func put(kb, ub *bolt.Bucket, r Record) (bool, error) {
	fp := r.Key.Fingerprint
	if v := kb.Get([]byte(fp)); v != nil {
		old, err := decodeRecord(fp, v)
		if err != nil {
			return false, err
		}
		if old.User != r.User {
			return false, &ConflictError{Fingerprint: fp, Owner: old.User}
		}
		return false, nil
	}
	data, err := encodeRecord(r)
	if err != nil {
		return false, err
	}
	if err := kb.Put([]byte(fp), data); err != nil {
		return false, err
	}
	return true, ub.Put(userKey(r.User, fp), nil)
}

// Remove removes the keys with the given fingerprints and returns how many
// were there. Fingerprints not in the store are not an error.
func (s *Store) Remove(fps ...string) (removed int, err error) {
	if s.opt.Source != nil {
		return s.opt.Source.Remove(fps...)
	}
	for _, fp := range fps {
		if err := checkFingerprint(fp); err != nil {
			return 0, err
		}
	}
	return s.removeTx(func(kb, ub *bolt.Bucket) (int, error) {
		n := 0
		for _, fp := range fps {
			v := kb.Get([]byte(fp))
			if v == nil {
				continue
			}
			if err := del(kb, ub, storedUser(v), fp); err != nil {
				return 0, err
			}
			n++
		}
		return n, nil
	})
}

// RemoveUser removes every key of user and returns how many there were.
func (s *Store) RemoveUser(user string) (removed int, err error) {
	if s.opt.Source != nil {
		return s.opt.Source.RemoveUser(user)
	}
	if err := ValidUsername(user); err != nil {
		return 0, err
	}
	return s.removeTx(func(kb, ub *bolt.Bucket) (int, error) {
		prefix := userKey(user, "")
		var fps []string
		c := ub.Cursor()
		for k, _ := c.Seek(prefix); bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			fps = append(fps, string(k[len(prefix):]))
		}
		for _, fp := range fps {
			if err := del(kb, ub, user, fp); err != nil {
				return 0, err
			}
		}
		return len(fps), nil
	})
}

// removeTx runs remove in one write transaction and returns how many keys
// it removed; a store that does not exist, or has no buckets yet, holds
// nothing to remove.
func (s *Store) removeTx(remove func(kb, ub *bolt.Bucket) (int, error)) (int, error) {
	removed := 0
	err := s.localUpdate(false, func(tx *bolt.Tx) error {
		kb, ub := tx.Bucket(bucketKeys), tx.Bucket(bucketUsers)
		if kb == nil || ub == nil {
			return nil
		}
		var err error
		removed, err = remove(kb, ub)
		return err
	})
	if errors.Is(err, ErrNoStore) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return removed, nil
}

// del deletes one key from both buckets.
func del(kb, ub *bolt.Bucket, user, fp string) error {
	if err := kb.Delete([]byte(fp)); err != nil {
		return err
	}
	return ub.Delete(userKey(user, fp))
}

// userKey returns the key of the users bucket for user and fp.
func userKey(user, fp string) []byte {
	return []byte(user + "\x00" + fp)
}

// checkFingerprint checks that fp has the form of ssh.FingerprintSHA256.
func checkFingerprint(fp string) error {
	const prefix, n = "SHA256:", 43 // 32 bytes in unpadded base64
	if len(fp) != len(prefix)+n || fp[:len(prefix)] != prefix {
		return fmt.Errorf("keys: %s is not a SHA256 fingerprint; want the SHA256:... form that ssh-keygen -l prints", Quote(fp))
	}
	return nil
}
