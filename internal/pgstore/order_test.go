package pgstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gitserver/gitserver/keys"
)

// TestConcurrentWriters runs 8 writers of 500 keys each, one key per
// transaction, while a reader follows the log: nothing is lost, ids are
// 1..4000, each key has its add change, and the reader, going on from the
// last id it saw, saw every id in order.
func TestConcurrentWriters(t *testing.T) {
	const writers, perWriter = 8, 500
	ctx := context.Background()
	s, _ := newStore(t)
	done := make(chan struct{})
	seen := make(chan []int64)
	go func() { seen <- followUntil(t, s, done) }()

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				n := w*perWriter + i
				if _, err := s.AddKeys(ctx, []keys.Record{rec(fmt.Sprintf("user%d", w), n)}); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	ids := <-seen

	const total = writers * perWriter
	if len(ids) != total {
		t.Errorf("reader saw %d changes, want %d", len(ids), total)
	}
	for i, id := range ids {
		if id != int64(i+1) {
			t.Fatalf("reader's change %d has id %d, want %d: ids not contiguous or out of order", i, id, i+1)
		}
	}
	added := map[string]bool{}
	for _, c := range follow(t, s, 0, MaxChanges) {
		if c.Kind == KindKeyAdd {
			added[c.Fingerprint] = true
		}
	}
	for n := range total {
		if !added[testKey(n).Fingerprint] {
			t.Errorf("key %d has no key-add change", n)
		}
	}
	var count int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM gitserver_keys`).Scan(&count); err != nil || count != total {
		t.Errorf("table holds %d keys (%v), want %d", count, err, total)
	}
}

// followUntil reads the log as a replica does, from the last id it saw,
// until done is closed and it is up to date, and returns the ids it saw.
func followUntil(t *testing.T, s *Store, done <-chan struct{}) []int64 {
	var ids []int64
	var last int64
	for {
		finished := false
		select {
		case <-done:
			finished = true
		default:
		}
		cs, err := s.ChangesSince(context.Background(), last, 100)
		if err != nil {
			t.Error(err)
			return ids
		}
		for _, c := range cs {
			ids = append(ids, c.ID)
			last = c.ID
		}
		if finished && len(cs) == 0 {
			return ids
		}
	}
}

// TestCommitOrder holds writer A before its commit, starts writer B on
// another connection, and checks that B waits for A's commit before it
// takes an id, so that a reader that saw A's change and goes on from its id
// cannot miss B's.
func TestCommitOrder(t *testing.T) {
	ctx := context.Background()
	_, dsn := newStore(t)
	reader := openStore(t, dsn)
	start := func(n int) *writer {
		w := &writer{s: openStore(t, dsn), held: make(chan struct{}), release: make(chan struct{}), done: make(chan error, 1)}
		w.s.beforeCommit = func() { close(w.held); <-w.release }
		// A failed test must not leave the writer, and Close, waiting.
		t.Cleanup(w.let)
		w.fp = testKey(n).Fingerprint
		go func() { _, err := w.s.AddKeys(ctx, []keys.Record{rec("alice", n)}); w.done <- err }()
		return w
	}
	since := func(id int64) []Change {
		cs, err := reader.ChangesSince(ctx, id, 10)
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}

	a := start(1)
	<-a.held // A holds WriteLock, has its id, has not committed
	b := start(2)
	waitForLockWaiter(t, reader)
	select {
	case <-b.held:
		t.Fatal("writer B logged its change while A held the lock")
	default:
	}
	if cs := since(0); len(cs) != 0 {
		t.Fatalf("reader sees %d changes before any commit", len(cs))
	}

	a.let()
	if err := <-a.done; err != nil {
		t.Fatal(err)
	}
	<-b.held // B has its id, has not committed
	cs := since(0)
	if len(cs) != 1 || cs[0].Fingerprint != a.fp {
		t.Fatalf("between the commits the reader sees %v, want A's change alone", cs)
	}
	lastSeen := cs[0].ID

	b.let()
	if err := <-b.done; err != nil {
		t.Fatal(err)
	}
	cs = since(lastSeen)
	if len(cs) != 1 || cs[0].Fingerprint != b.fp {
		t.Fatalf("after B's commit ChangesSince(%d) = %v, want B's change", lastSeen, cs)
	}
	if cs[0].ID <= lastSeen {
		t.Errorf("B's id %d is not above A's %d", cs[0].ID, lastSeen)
	}
}

// writer is a store whose writes wait before they commit until let.
type writer struct {
	s             *Store
	held, release chan struct{} // held is closed when a write waits
	once          sync.Once
	done          chan error
	fp            string // of the key the writer adds
}

// let lets the writer commit.
func (w *writer) let() { w.once.Do(func() { close(w.release) }) }

// waitForLockWaiter polls pg_locks until a session waits for WriteLock.
func waitForLockWaiter(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("writer B never waited for WriteLock")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
