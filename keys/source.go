package keys

import (
	"errors"

	bolt "go.etcd.io/bbolt"
)

// Source is where the writes of a store go when the store is the replica
// of a shared source of truth (PostgreSQL; see internal/statewrite): each
// method does in the source what the Store method of the same name does
// locally, with the same errors (*ConflictError, ErrNotFound, ErrLastKey),
// and returns once the change is in this host's replica, so that the
// writer reads its own write.
type Source interface {
	Add(recs []Record) ([]Record, error)
	Import(recs []Record) (added int, rejected []error, err error)
	Remove(fps ...string) (int, error)
	RemoveUser(user string) (int, error)
	RemoveOwn(user, fp string, keepLast bool) error
}

// ErrReplica is returned by a write to a replica store that has no
// Options.Source: a key written there alone would be on this host only,
// and gone at the next reconcile.
var ErrReplica = errors.New("keys: this key store is a replica of the shared store ([store] in the config): change keys there, with gitserver on a host whose config names it")

// localUpdate is update for the writes of Add, Import, Remove, RemoveUser
// and RemoveOwn: it refuses a replica (ErrReplica).
func (s *Store) localUpdate(create bool, fn func(*bolt.Tx) error) error {
	return s.update(create, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketReplica) != nil {
			return ErrReplica
		}
		return fn(tx)
	})
}
