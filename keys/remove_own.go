package keys

import (
	"bytes"
	"errors"

	bolt "go.etcd.io/bbolt"
)

// ErrLastKey is returned by RemoveOwn when asked to keep the user's last
// key: removing it would lock the user out.
var ErrLastKey = errors.New("keys: that is the user's last key")

// RemoveOwn removes the key fp if, and only if, it belongs to user, in one
// transaction: a user can never remove someone else's key through it. It
// returns ErrNotFound for a key that is absent or another user's (the
// caller learns nothing about other users' keys), and with keepLast,
// ErrLastKey when fp is user's only key.
func (s *Store) RemoveOwn(user, fp string, keepLast bool) error {
	if s.opt.Source != nil {
		return s.opt.Source.RemoveOwn(user, fp, keepLast)
	}
	if err := ValidUsername(user); err != nil {
		return err
	}
	if err := checkFingerprint(fp); err != nil {
		return err
	}
	err := s.localUpdate(false, func(tx *bolt.Tx) error {
		kb, ub := tx.Bucket(bucketKeys), tx.Bucket(bucketUsers)
		if kb == nil || ub == nil {
			return ErrNotFound
		}
		v := kb.Get([]byte(fp))
		if v == nil || storedUser(v) != user {
			return ErrNotFound
		}
		if keepLast && countPrefix(ub, userKey(user, "")) <= 1 {
			return ErrLastKey
		}
		return del(kb, ub, user, fp)
	})
	if errors.Is(err, ErrNoStore) {
		return ErrNotFound
	}
	return err
}

// countPrefix counts the keys of b that start with prefix, stopping at 2:
// callers only ask whether there is more than one.
func countPrefix(b *bolt.Bucket, prefix []byte) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && n < 2; k, _ = c.Next() {
		n++
	}
	return n
}
