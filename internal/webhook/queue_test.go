package webhook

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestQueue(t *testing.T) {
	q := &Queue{Path: filepath.Join(t.TempDir(), "webhooks.db")}
	now := time.Now()
	if ds, err := q.List(false); err != nil || len(ds) != 0 {
		t.Fatalf("empty queue: %v %v", ds, err)
	}
	if err := q.Append([]Delivery{{ID: "a", NextAt: now}, {ID: "b", NextAt: now.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	pending, err := q.List(false)
	due := DueOf(pending, now, 10)
	if err != nil || len(due) != 1 || due[0].ID != "a" {
		t.Fatalf("Due = %v, %v", due, err)
	}
	d := due[0]
	d.Attempts, d.LastError = 1, "status 500"
	if err := q.Settle(d, false, true); err != nil {
		t.Fatal(err)
	}
	failed, _ := q.List(true)
	pending, _ = q.List(false)
	if len(failed) != 1 || failed[0].LastError != "status 500" || len(pending) != 1 {
		t.Fatalf("after failing a: failed %v pending %v", failed, pending)
	}
	if err := q.Redeliver("a", now); err != nil {
		t.Fatal(err)
	}
	if err := q.Redeliver("zz", now); !errors.Is(err, ErrNoDelivery) {
		t.Fatalf("Redeliver(unknown) = %v", err)
	}
	pending, _ = q.List(false)
	due = DueOf(pending, now, 10)
	if len(due) != 1 || due[0].ID != "a" || due[0].Attempts != 0 {
		t.Fatalf("after redeliver: %+v", due)
	}
	if err := q.Settle(due[0], true, false); err != nil {
		t.Fatal(err)
	}
	if pending, _ := q.List(false); len(pending) != 1 || pending[0].ID != "b" {
		t.Fatalf("after delivering a: %+v", pending)
	}
	// The value Python's hmac.new(b"k", b"body", hashlib.sha256) gives.
	if got := Sign([]byte("k"), []byte("body")); got != "sha256=c6d811ef3aeb02437cd423f1abe13209041864630bdc4e2c04def5c7b0031a23" {
		t.Fatalf("Sign = %s", got)
	}
}
