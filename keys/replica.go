package keys

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A store that is the replica of a shared source (internal/replicate) has
// a third bucket, written in the same transaction as the keys it follows:
//
//	replica: "last_id"    → 8 bytes, big-endian: the source's last change applied
//	         "applied_at" → 8 bytes, big-endian Unix nanoseconds: when the
//	                        replica was last known current
//
// Since bbolt commits a transaction whole or not at all, a replica killed at
// any moment holds the keys of exactly the changes up to last_id. Lookup
// reads "applied_at" only when Options.MaxLag is set.
var (
	bucketReplica = []byte("replica")
	keyLastID     = []byte("last_id")
	keyAppliedAt  = []byte("applied_at")
)

// ReplicaChange is one change of the source, as ApplyReplica applies it.
type ReplicaChange struct {
	ID     int64  // the change's position in the source's log
	Remove bool   // false: Record was added; true: the key Record names was removed
	Record Record // the record added, or (with Remove) the record removed
}

// ReplicaGapError is returned by ApplyReplica for changes that do not
// follow the replica's last change: applying them could skip changes, so
// nothing is written. The caller reads the source again from Have.
type ReplicaGapError struct {
	Have  int64 // the last change the replica applied
	Since int64 // the change the batch follows
}

func (e *ReplicaGapError) Error() string {
	return fmt.Sprintf("keys: replica is at change %d, the changes follow %d; read the source again from %d", e.Have, e.Since, e.Have)
}

// ApplyReplica applies changes, which follow change since in the source,
// and records lastID as the last change applied and now as the time the
// replica was last current, all in one transaction. since must be the
// replica's last change (0 for a replica with no state), the changes'
// ids must rise within (since, lastID], and lastID must not be below
// since; else nothing is written (a *ReplicaGapError, or an error). No
// changes and lastID == since records only that the replica is current.
//
// An add replaces any record of the same key (the source decides); adding
// a record already there or removing a key not there changes nothing, so
// a change applied twice is harmless.
func (s *Store) ApplyReplica(since int64, changes []ReplicaChange, lastID int64) error {
	if err := checkChanges(since, changes, lastID); err != nil {
		return err
	}
	return s.update(true, func(tx *bolt.Tx) error {
		kb, ub, err := createBuckets(tx)
		if err != nil {
			return err
		}
		rb, err := tx.CreateBucketIfNotExists(bucketReplica)
		if err != nil {
			return err
		}
		if have := getInt(rb, keyLastID); have != since {
			return &ReplicaGapError{Have: have, Since: since}
		}
		for _, c := range changes {
			if err := applyChange(kb, ub, c); err != nil {
				return fmt.Errorf("keys: change %d: %w", c.ID, err)
			}
		}
		return putState(rb, lastID, time.Now())
	})
}

// checkChanges checks a batch before any write.
func checkChanges(since int64, changes []ReplicaChange, lastID int64) error {
	if since < 0 || lastID < since {
		return fmt.Errorf("keys: replica changes end at %d, before the %d they follow", lastID, since)
	}
	prev := since
	for _, c := range changes {
		if c.ID <= prev || c.ID > lastID {
			return fmt.Errorf("keys: replica change %d is out of order (after %d, up to %d)", c.ID, prev, lastID)
		}
		prev = c.ID
		if c.Remove {
			if err := checkFingerprint(c.Record.Key.Fingerprint); err != nil {
				return fmt.Errorf("keys: change %d: %w", c.ID, err)
			}
		} else if err := c.Record.Check(); err != nil {
			return fmt.Errorf("keys: change %d: %w", c.ID, err)
		}
	}
	return nil
}

// applyChange applies one checked change.
func applyChange(kb, ub *bolt.Bucket, c ReplicaChange) error {
	fp := c.Record.Key.Fingerprint
	if v := kb.Get([]byte(fp)); v != nil {
		if err := del(kb, ub, storedUser(v), fp); err != nil {
			return err
		}
	}
	if c.Remove {
		return nil
	}
	r := c.Record
	r.Added = r.Added.UTC().Round(0)
	_, err := put(kb, ub, r)
	return err
}

// ReplicaState returns the last change the replica applied and when it
// was last known current (UTC). ok is false, with no error, for a store
// that is no replica (it has no state, or does not exist).
func (s *Store) ReplicaState() (lastID int64, appliedAt time.Time, ok bool, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketReplica)
		if rb == nil || rb.Get(keyLastID) == nil {
			return nil
		}
		lastID, ok = getInt(rb, keyLastID), true
		appliedAt = time.Unix(0, getInt(rb, keyAppliedAt)).UTC()
		return nil
	})
	if errors.Is(err, ErrNoStore) {
		return 0, time.Time{}, false, nil
	}
	return lastID, appliedAt, ok, err
}

// putState records the replica's last change and when it was current.
func putState(rb *bolt.Bucket, lastID int64, at time.Time) error {
	if err := rb.Put(keyLastID, binary.BigEndian.AppendUint64(nil, uint64(lastID))); err != nil {
		return err
	}
	return rb.Put(keyAppliedAt, binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano())))
}

// getInt reads a value of putState; 0 if absent or damaged.
func getInt(rb *bolt.Bucket, k []byte) int64 {
	v := rb.Get(k)
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// StaleError is returned by Lookup on a replica (Options.MaxLag) that was
// last confirmed current longer ago than MaxLag, or never.
type StaleError struct {
	Behind time.Duration // since it was last confirmed current; 0 if never
	MaxLag time.Duration
}

func (e *StaleError) Error() string {
	if e.Behind == 0 {
		return fmt.Sprintf("keys: the key store is no replica yet (max_lag %v): logins are refused until gitserver replicate has copied it", e.MaxLag)
	}
	return fmt.Sprintf("keys: the key store's replica was last confirmed current %v ago, beyond max_lag %v: logins are refused until gitserver replicate catches up (is it running, does it reach PostgreSQL?)", e.Behind.Round(time.Second), e.MaxLag)
}

// checkFresh returns a *StaleError when the replica in tx was confirmed
// current longer than maxLag before now, or never.
func checkFresh(tx *bolt.Tx, maxLag time.Duration, now time.Time) error {
	rb := tx.Bucket(bucketReplica)
	if rb == nil || rb.Get(keyAppliedAt) == nil {
		return &StaleError{MaxLag: maxLag}
	}
	if behind := now.Sub(time.Unix(0, getInt(rb, keyAppliedAt))); behind > maxLag {
		return &StaleError{Behind: behind, MaxLag: maxLag}
	}
	return nil
}
