package keys

import (
	"bytes"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// List calls fn for each record of user, or of every user if user is "",
// ordered by user, then fingerprint. An error from fn stops the listing and
// is returned.
//
// List reads listPageSize records per transaction and calls fn between
// transactions, so that neither a long listing nor a slow fn holds the
// lock. The listing is therefore not a snapshot: a key added or removed
// while List runs may or may not be seen, but no key is seen twice.
func (s *Store) List(user string, fn func(Record) error) error {
	var prefix []byte
	if user != "" {
		if err := ValidUsername(user); err != nil {
			return err
		}
		prefix = userKey(user, "")
	}
	from := prefix
	for {
		page, next, err := s.listPage(prefix, from)
		if errors.Is(err, ErrNoStore) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if next == nil {
			return nil
		}
		from = next
	}
}

// HasUser reports whether user has at least one key; false, nil when
// there is no store. It seeks once in the users bucket, in one read
// transaction, so it costs about what Lookup costs, however many keys the
// user or the store holds (see BenchmarkHasUser).
//
// It reads only the users bucket, which every write changes together with
// keys, and does not read the record: in a store damaged by hand, it may
// know a user whose record is gone or says otherwise. Whether a key
// belongs to a user is Lookup's to say, from the record.
func (s *Store) HasUser(user string) (bool, error) {
	if err := ValidUsername(user); err != nil {
		return false, err
	}
	found := false
	err := s.view(func(tx *bolt.Tx) error {
		if ub := tx.Bucket(bucketUsers); ub != nil {
			prefix := userKey(user, "")
			k, _ := ub.Cursor().Seek(prefix)
			found = bytes.HasPrefix(k, prefix)
		}
		return nil
	})
	if errors.Is(err, ErrNoStore) {
		return false, nil
	}
	return found, err
}

// listPage reads up to listPageSize records whose users key has prefix and
// is at least from. next is where the following page starts, nil at the end.
func (s *Store) listPage(prefix, from []byte) (page []Record, next []byte, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		kb, ub := tx.Bucket(bucketKeys), tx.Bucket(bucketUsers)
		if kb == nil || ub == nil {
			return nil
		}
		c := ub.Cursor()
		for k, _ := c.Seek(from); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(page) == listPageSize {
				next = bytes.Clone(k)
				return nil
			}
			r, err := recordOf(kb, k)
			if err != nil {
				return err
			}
			page = append(page, r)
		}
		return nil
	})
	return page, next, err
}

// recordOf returns the record that users key uk points to, checking that
// the two buckets agree.
func recordOf(kb *bolt.Bucket, uk []byte) (Record, error) {
	user, fp, ok := bytes.Cut(uk, []byte{0})
	if !ok {
		return Record{}, fmt.Errorf("keys: store is damaged: bad users entry %q", uk)
	}
	v := kb.Get(fp)
	if v == nil {
		return Record{}, fmt.Errorf("keys: store is damaged: key %s of user %q is missing", fp, user)
	}
	r, err := decodeRecord(string(fp), v)
	if err == nil && r.User != string(user) {
		err = fmt.Errorf("keys: store is damaged: key %s is listed for %q but belongs to %q", fp, user, r.User)
	}
	return r, err
}

// Count returns the number of keys in the store; 0 if there is no store.
// It reads every page of the keys bucket: a tool for admins, not logins.
func (s *Store) Count() (int, error) {
	n := 0
	err := s.view(func(tx *bolt.Tx) error {
		if kb := tx.Bucket(bucketKeys); kb != nil {
			n = kb.Stats().KeyN
		}
		return nil
	})
	if errors.Is(err, ErrNoStore) {
		return 0, nil
	}
	return n, err
}
