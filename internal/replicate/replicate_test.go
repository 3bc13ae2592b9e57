package replicate

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/ssh"

	"github.com/gitserver/gitserver/internal/pgstore"
	"github.com/gitserver/gitserver/internal/pgtest"
	"github.com/gitserver/gitserver/keys"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testKey returns the i-th test ed25519 key, derived from a fixed seed:
// for tests only, NEVER use it anywhere else.
func testKey(i int) keys.Key {
	seed := sha256.Sum256(fmt.Appendf(nil, "gitserver replicate test key %d", i))
	pk, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(seed[:]).Public())
	if err != nil {
		panic(err)
	}
	blob := pk.Marshal()
	return keys.Key{Type: pk.Type(), Blob: blob, Comment: fmt.Sprintf("key%d", i), Fingerprint: keys.Fingerprint(blob)}
}

func rec(user string, i int) keys.Record {
	return keys.Record{User: user, Title: fmt.Sprintf("title %d", i), Key: testKey(i)}
}

// syncBuffer is a log output that Run's goroutine and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

// fixture is a migrated database, a local store and the log of the runs.
type fixture struct {
	t     *testing.T
	dsn   string
	pg    *pgstore.Store
	local *keys.Store
	log   *syncBuffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dsn := pgtest.Start(t)
	pg, err := pgstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Close)
	if err := pg.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	local := keys.Open(filepath.Join(t.TempDir(), "keys.db"), keys.Options{})
	f := &fixture{t: t, dsn: dsn, pg: pg, local: local, log: &syncBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replicate log:\n%s", f.log.buf.String())
		}
	})
	return f
}

// run starts Run and returns the function that stops it and waits.
func (f *fixture) run(opt Options) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	log := hclog.New(&hclog.LoggerOptions{Output: f.log, Level: hclog.Debug})
	done := make(chan error, 1)
	go func() { done <- Run(ctx, f.pg, f.local, f.dsn, log, opt) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				f.t.Errorf("Run = %v, want nil after cancel", err)
			}
		})
	}
	f.t.Cleanup(stop)
	return stop
}

func (f *fixture) add(recs ...keys.Record) {
	f.t.Helper()
	if _, err := f.pg.AddKeys(context.Background(), recs); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) remove(i int) {
	f.t.Helper()
	if _, err := f.pg.RemoveKey(context.Background(), testKey(i).Fingerprint); err != nil {
		f.t.Fatal(err)
	}
}

// within polls the local store until key i is there (present) or not,
// failing the test after d.
func (f *fixture) within(d time.Duration, i int, present bool) {
	f.t.Helper()
	start := time.Now()
	for {
		_, err := f.local.Lookup(testKey(i).Fingerprint)
		if err != nil && !errors.Is(err, keys.ErrNotFound) {
			f.t.Fatal(err)
		}
		if (err == nil) == present {
			f.t.Logf("key %d present=%v after %v", i, present, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > d {
			f.t.Fatalf("key %d: present=%v not seen within %v", i, present, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Poll is long in these tests: within a second, only a notification
// can have brought a change.
var listenOnly = Options{Poll: time.Minute}

func TestFollow(t *testing.T) {
	f := newFixture(t)
	f.add(rec("alice", 1))
	f.run(listenOnly)
	f.within(5*time.Second, 1, true) // the snapshot at start
	f.add(rec("bob", 2))
	f.within(time.Second, 2, true)
	f.remove(1)
	f.within(time.Second, 1, false)
	if n := f.log.count("replica loaded from a snapshot"); n != 1 {
		t.Errorf("%d snapshots, want 1", n)
	}
}

func TestRestartCatchesUp(t *testing.T) {
	f := newFixture(t)
	f.add(rec("alice", 1), rec("alice", 2))
	stop := f.run(listenOnly)
	f.within(5*time.Second, 1, true)
	stop()

	f.add(rec("bob", 3))
	f.remove(1)
	f.run(listenOnly)
	f.within(time.Second, 3, true)
	f.within(time.Second, 1, false)
	f.within(time.Second, 2, true)
	if n := f.log.count("replica loaded from a snapshot"); n != 1 {
		t.Errorf("%d snapshots, want 1: a restart goes on from the replica's last id", n)
	}
	last, _, ok, err := f.local.ReplicaState()
	if err != nil || !ok || last != 4 {
		t.Errorf("ReplicaState() = %d, %v, %v; want 4, true, nil", last, ok, err)
	}
}

// TestReconnect cuts every connection to the database, as a restart of
// PostgreSQL does: Run reconnects and catches up by itself.
func TestReconnect(t *testing.T) {
	f := newFixture(t)
	f.run(listenOnly)
	f.add(rec("alice", 1))
	f.within(5*time.Second, 1, true)

	terminate(t, f.dsn)
	addRetrying(t, f.pg, rec("bob", 2)) // the pool's connections are cut too
	f.within(10*time.Second, 2, true)
	if n := f.log.count("replication interrupted; reconnecting"); n < 1 {
		t.Errorf("no line logged for the lost connection")
	}
	f.add(rec("carol", 3))
	f.within(time.Second, 3, true) // LISTENing again
}

// terminate ends every other backend connected to the database of dsn.
func terminate(t *testing.T, dsn string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n)
	if err != nil || n == 0 {
		t.Fatalf("terminated %d backends: %v", n, err)
	}
}

func addRetrying(t *testing.T, pg *pgstore.Store, r keys.Record) {
	t.Helper()
	var err error
	for range 20 {
		if _, err = pg.AddKeys(context.Background(), []keys.Record{r}); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal(err)
}

// TestReconcile checks that a key put in the replica behind the source's
// back (writes to a replica are refused, so: a change the source never
// had) goes at the next full snapshot.
func TestReconcile(t *testing.T) {
	f := newFixture(t)
	f.add(rec("alice", 1))
	f.run(Options{Poll: 20 * time.Millisecond, Reconcile: 200 * time.Millisecond})
	f.within(5*time.Second, 1, true)
	if _, err := f.local.Add([]keys.Record{rec("mallory", 9)}); !errors.Is(err, keys.ErrReplica) {
		t.Fatalf("Add to the replica = %v, want ErrReplica", err)
	}
	for {
		last, _, _, _ := f.local.ReplicaState()
		err := f.local.ApplyReplica(last, []keys.ReplicaChange{{ID: last + 1, Record: rec("mallory", 9)}}, last+1)
		var gap *keys.ReplicaGapError
		if !errors.As(err, &gap) {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	f.within(5*time.Second, 9, false)
	f.within(time.Second, 1, true)
}

// TestCurrent checks that a replica with nothing new still records when
// it was last current, every Poll.
func TestCurrent(t *testing.T) {
	f := newFixture(t)
	f.run(Options{Poll: 20 * time.Millisecond})
	deadline := time.Now().Add(5 * time.Second)
	var first time.Time
	for time.Now().Before(deadline) {
		_, at, ok, err := f.local.ReplicaState()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ok && first.IsZero():
			first = at
		case ok && at.After(first):
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("applied_at did not move within 5s (first %v)", first)
}

func TestBackoff(t *testing.T) {
	pause := firstBackoff
	var got []time.Duration
	for range 8 {
		got = append(got, pause)
		pause = nextBackoff(pause, time.Second)
	}
	if got[0] != firstBackoff || got[7] != time.Second || got[3] != 8*firstBackoff {
		t.Errorf("pauses %v, want doubling from %v up to 1s", got, firstBackoff)
	}
}

func TestConvert(t *testing.T) {
	changes := []pgstore.Change{
		{ID: 4, Kind: pgstore.KindKeyAdd, Fingerprint: testKey(1).Fingerprint, Record: rec("alice", 1)},
		{ID: 6, Kind: pgstore.KindKeyRemove, Fingerprint: testKey(1).Fingerprint, Record: rec("alice", 1)},
	}
	got, last := convert(changes, 3)
	if len(got) != 2 || last != 6 || got[0].Remove || !got[1].Remove || got[1].ID != 6 {
		t.Errorf("convert = %+v, %d; want add 4, remove 6, last 6", got, last)
	}
	if got, last := convert(nil, 3); len(got) != 0 || last != 3 {
		t.Errorf("convert(nil, 3) = %v, %d; want none, 3", got, last)
	}
}
