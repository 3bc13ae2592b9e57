// Package webhook tells other services about pushes: the post-receive
// step turns a push into deliveries, one per matching [[webhook]] of the
// policy, and appends them to a durable queue (its own bbolt file, never
// the key store's, so a slow queue never holds up a login); a worker
// sends them, signed, with retries and exponential backoff for up to a
// day, then keeps them as failed for an admin to redeliver.
//
// # Security
//
// The worker refuses to connect to link-local and cloud metadata
// addresses, and to loopback and private ones unless the webhook allows
// it (allow_private): the check is on the address actually dialled,
// after DNS, so a name that resolves to a forbidden address is refused
// too. Redirects are not followed.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Delivery is one webhook call, with everything needed to make it: the
// webhook's settings as they were when the push happened.
type Delivery struct {
	ID           string        `json:"id"` // sent as X-Gitserver-Delivery; receivers dedupe on it
	Seq          uint64        `json:"seq"`
	URL          string        `json:"url"`
	SecretFile   string        `json:"secret_file"`
	Format       string        `json:"format"`
	Event        string        `json:"event"` // the event header's value
	Timeout      time.Duration `json:"timeout"`
	AllowPrivate bool          `json:"allow_private,omitempty"`
	Repo         string        `json:"repo"`
	Body         []byte        `json:"body"`
	Created      time.Time     `json:"created"`
	NextAt       time.Time     `json:"next_at"`
	Attempts     int           `json:"attempts"`
	LastError    string        `json:"last_error,omitempty"`
	Done         time.Time     `json:"done,omitempty"`
}

// Retry policy: the first retry after FirstRetry, doubling to MaxDelay,
// until GiveUp after the push.
const (
	FirstRetry = 10 * time.Second
	MaxDelay   = time.Hour
	GiveUp     = 24 * time.Hour
)

// Buckets of the queue file.
var (
	bucketPending = []byte("pending")
	bucketFailed  = []byte("failed")
)

// Queue is the queue file, opened for each operation and closed after,
// so that hooks in many processes and one worker share it.
type Queue struct {
	Path string
}

// lockWait bounds how long an operation waits for the file.
const lockWait = 10 * time.Second

func (q *Queue) update(fn func(tx *bolt.Tx) error) error {
	db, err := bolt.Open(q.Path, 0o600, &bolt.Options{Timeout: lockWait})
	if err != nil {
		return fmt.Errorf("webhook: queue %s: %w", q.Path, err)
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketPending, bucketFailed} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

func (q *Queue) view(fn func(tx *bolt.Tx) error) error {
	if _, err := os.Stat(q.Path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := bolt.Open(q.Path, 0o600, &bolt.Options{Timeout: lockWait, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("webhook: queue %s: %w", q.Path, err)
	}
	defer db.Close()
	return db.View(fn)
}

func key(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// Sign is the signature header's value (X-Gitserver-Signature-256,
// and X-Hub-Signature-256 for the GitHub format): "sha256=" and the hex
// HMAC-SHA256 of the body with the webhook's secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// NewID is a delivery id: 16 random bytes in hex.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Append adds deliveries to the pending ones, in one fsynced transaction.
func (q *Queue) Append(ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	return q.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPending)
		for _, d := range ds {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			d.Seq = seq
			v, err := json.Marshal(d)
			if err != nil {
				return err
			}
			if err := b.Put(key(seq), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// List returns the pending deliveries, or the failed ones, oldest first.
func (q *Queue) List(failed bool) ([]Delivery, error) {
	bucket := bucketPending
	if failed {
		bucket = bucketFailed
	}
	var out []Delivery
	err := q.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var d Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	})
	return out, err
}

// DueOf is up to n of pending whose time has come, in order.
func DueOf(pending []Delivery, now time.Time, n int) []Delivery {
	var out []Delivery
	for _, d := range pending {
		if !d.NextAt.After(now) && len(out) < n {
			out = append(out, d)
		}
	}
	return out
}

// Settle records the outcome of a delivery: done (removed), rescheduled,
// or failed for good (moved to the failed ones).
func (q *Queue) Settle(d Delivery, done, failed bool) error {
	return q.update(func(tx *bolt.Tx) error {
		p := tx.Bucket(bucketPending)
		if p.Get(key(d.Seq)) == nil {
			return nil // redelivered or settled meanwhile
		}
		if done {
			return p.Delete(key(d.Seq))
		}
		v, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if failed {
			if err := p.Delete(key(d.Seq)); err != nil {
				return err
			}
			return tx.Bucket(bucketFailed).Put(key(d.Seq), v)
		}
		return p.Put(key(d.Seq), v)
	})
}

// ErrNoDelivery: Redeliver found no failed or pending delivery with that id.
var ErrNoDelivery = errors.New("webhook: no such delivery")

// Redeliver puts the delivery with id (failed or pending) first in line
// again, with a fresh day of retries. It keeps its id, so a receiver that
// got it once can tell.
func (q *Queue) Redeliver(id string, now time.Time) error {
	return q.update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketFailed, bucketPending} {
			b := tx.Bucket(name)
			c := b.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				var d Delivery
				if json.Unmarshal(v, &d) != nil || d.ID != id {
					continue
				}
				if err := b.Delete(k); err != nil {
					return err
				}
				d.Attempts, d.NextAt, d.Created, d.LastError = 0, now, now, ""
				nv, err := json.Marshal(d)
				if err != nil {
					return err
				}
				return tx.Bucket(bucketPending).Put(k, nv)
			}
		}
		return ErrNoDelivery
	})
}
