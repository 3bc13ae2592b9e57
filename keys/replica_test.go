package keys

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func added(r Record) ReplicaChange { return ReplicaChange{Record: r} }

func removed(r Record) ReplicaChange { return ReplicaChange{Remove: true, Record: r} }

func withID(id int64, c ReplicaChange) ReplicaChange { c.ID = id; return c }

func wantState(t *testing.T, s *Store, id int64, after time.Time) {
	t.Helper()
	got, at, ok, err := s.ReplicaState()
	if err != nil || !ok || got != id || at.Before(after.Add(-time.Millisecond)) {
		t.Fatalf("ReplicaState() = %d, %v, %v, %v; want %d, after %v, true", got, at, ok, err, id, after)
	}
}

func wantKeys(t *testing.T, s *Store, want string) {
	t.Helper()
	if got := listUsers(t, s, ""); got != want {
		t.Fatalf("keys = %q, want %q", got, want)
	}
}

func TestApplyReplica(t *testing.T) {
	s := newStore(t)
	if _, _, ok, err := s.ReplicaState(); ok || err != nil {
		t.Fatalf("ReplicaState() of an absent store = %v, %v; want false, nil", ok, err)
	}
	a, b := rec("alice", 1), rec("bob", 2)
	start := time.Now()
	if err := s.ApplyReplica(0, []ReplicaChange{withID(3, added(a)), withID(5, added(b))}, 7); err != nil {
		t.Fatal(err)
	}
	wantState(t, s, 7, start)
	wantKeys(t, s, "alice:1 bob:2")

	// Applied twice (the batch after a crash between apply and the
	// source's answer): harmless. Removing a missing key too.
	if err := s.ApplyReplica(7, []ReplicaChange{withID(8, added(a)), withID(9, removed(b)), withID(10, removed(b))}, 10); err != nil {
		t.Fatal(err)
	}
	wantKeys(t, s, "alice:1")

	// Nothing new: only the time moves.
	before := time.Now()
	if err := s.ApplyReplica(10, nil, 10); err != nil {
		t.Fatal(err)
	}
	wantState(t, s, 10, before)

	// The source decides who owns a key.
	moved := a
	moved.User = "carol"
	if err := s.ApplyReplica(10, []ReplicaChange{withID(11, added(moved))}, 11); err != nil {
		t.Fatal(err)
	}
	wantKeys(t, s, "carol:1")
	if r, err := s.Lookup(a.Key.Fingerprint); err != nil || r.User != "carol" {
		t.Fatalf("Lookup = %v, %v; want carol's", r, err)
	}
}

func TestApplyReplicaRefuses(t *testing.T) {
	s := newStore(t)
	if err := s.ApplyReplica(0, []ReplicaChange{withID(4, added(rec("alice", 1)))}, 5); err != nil {
		t.Fatal(err)
	}
	bad := rec("bob", 2)
	bad.User = "-bob"
	for _, tt := range []struct {
		name    string
		since   int64
		changes []ReplicaChange
		last    int64
		gap     bool
	}{
		{"gap", 6, nil, 7, true},
		{"older", 3, nil, 4, true},
		{"from zero again", 0, nil, 9, true},
		{"last before since", 5, nil, 4, false},
		{"id not above since", 5, []ReplicaChange{withID(5, added(rec("bob", 2)))}, 6, false},
		{"id above last", 5, []ReplicaChange{withID(7, added(rec("bob", 2)))}, 6, false},
		{"ids not rising", 5, []ReplicaChange{withID(7, added(rec("bob", 2))), withID(6, added(rec("bob", 3)))}, 7, false},
		{"bad record", 5, []ReplicaChange{withID(6, added(rec("bob", 3))), withID(7, added(bad))}, 7, false},
	} {
		err := s.ApplyReplica(tt.since, tt.changes, tt.last)
		var ge *ReplicaGapError
		if err == nil || errors.As(err, &ge) != tt.gap {
			t.Errorf("%s: ApplyReplica(%d, ..., %d) = %v; want an error, gap %v", tt.name, tt.since, tt.last, err, tt.gap)
		}
	}
	// Nothing of any refused batch was written.
	wantState(t, s, 5, time.Time{})
	wantKeys(t, s, "alice:1")
}

func records(lastID int64, recs ...Record) func(func(Record) error) (int64, error) {
	return func(yield func(Record) error) (int64, error) {
		for _, r := range recs {
			if err := yield(r); err != nil {
				return 0, err
			}
		}
		return lastID, nil
	}
}

func TestReplaceAll(t *testing.T) {
	s := Open(filepath.Join(t.TempDir(), "keys.db"), Options{Mode: 0o604})
	mustAdd(t, s, rec("alice", 1), rec("bob", 2))
	start := time.Now()
	if err := s.ReplaceAll(records(42, rec("bob", 2), rec("carol", 3))); err != nil {
		t.Fatal(err)
	}
	wantState(t, s, 42, start)
	wantKeys(t, s, "bob:2 carol:3")
	if fi, err := os.Stat(s.Path()); err != nil || fi.Mode().Perm() != 0o604 {
		t.Fatalf("mode after ReplaceAll = %v, %v; want 0604", fi.Mode(), err)
	}
	if err := s.ApplyReplica(42, []ReplicaChange{withID(43, removed(rec("bob", 2)))}, 43); err != nil {
		t.Fatal(err)
	}
	wantKeys(t, s, "carol:3")

	// A failing source, a bad record or a key given twice change nothing.
	fail := errors.New("source gone")
	for _, each := range []func(func(Record) error) (int64, error){
		func(yield func(Record) error) (int64, error) { _ = yield(rec("dave", 4)); return 0, fail },
		records(50, rec("dave", 4), Record{User: "eve"}),
		records(50, rec("dave", 4), rec("eve", 4)),
		records(-1, rec("dave", 4)),
	} {
		if err := s.ReplaceAll(each); err == nil {
			t.Errorf("ReplaceAll of a bad source = nil, want an error")
		}
	}
	wantState(t, s, 43, time.Time{})
	wantKeys(t, s, "carol:3")
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(s.Path()), ".keys.db.*"))
	if len(left) > 0 {
		t.Errorf("ReplaceAll left %v", left)
	}
}

// TestReplaceAllWriterWaiting checks that a writer that opened the store
// before a ReplaceAll renamed a new file in writes the new file.
func TestReplaceAllWriterWaiting(t *testing.T) {
	s := newStore(t)
	mustAdd(t, s, rec("alice", 1))
	done := make(chan error)
	err := s.update(false, func(*bolt.Tx) error {
		go func() { _, err := s.Add([]Record{rec("bob", 2)}); done <- err }()
		time.Sleep(50 * time.Millisecond) // the Add opens the old file and waits for our lock (if it is slower, it opens the new one: the test passes without proving much)
		return os.Rename(replacement(t, s), s.Path())
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantKeys(t, s, "bob:2 carol:3")
}

// replacement builds, beside s, a store holding carol's key 3.
func replacement(t *testing.T, s *Store) string {
	t.Helper()
	other := Open(filepath.Join(filepath.Dir(s.Path()), "other.db"), Options{})
	mustAdd(t, other, rec("carol", 3))
	return other.Path()
}

// TestReplaceAllLookupsGoOn looks a key up while ReplaceAll loads many:
// every lookup finds it, in the old file or the new one.
func TestReplaceAllLookupsGoOn(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 20000 keys")
	}
	s := newStore(t)
	mustAdd(t, s, rec("alice", 1))
	many := []Record{rec("alice", 1)}
	for i := 2; i <= 20000; i++ {
		many = append(many, rec("bob", i))
	}
	done := make(chan error)
	go func() { done <- s.ReplaceAll(records(7, many...)) }()
	lookups := 0
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d lookups during ReplaceAll, all found", lookups)
			if n, err := s.Count(); n != len(many) || err != nil {
				t.Fatalf("Count = %d, %v; want %d", n, err, len(many))
			}
			return
		default:
		}
		if _, err := s.Lookup(testKey(1).Fingerprint); err != nil {
			t.Fatalf("Lookup during ReplaceAll: %v", err)
		}
		lookups++
	}
}

// replicaLoop is the child of TestKillDuringApply: change id k adds
// testKey(first+k), 1 to 5 changes per ApplyReplica.
func replicaLoop(s *Store, first int, deadline time.Time) {
	var last int64
	for time.Now().Before(deadline) {
		n := 1 + int(last%5)
		var batch []ReplicaChange
		for j := 1; j <= n; j++ {
			id := last + int64(j)
			batch = append(batch, ReplicaChange{ID: id, Record: Record{User: "alice", Key: testKey(first + int(id)), Added: time.Now()}})
		}
		if err := s.ApplyReplica(last, batch, last+int64(n)); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		last += int64(n)
		fmt.Println(last)
	}
	os.Exit(2)
}

// TestKillDuringApply kills a replica with SIGKILL while it applies
// changes, at a few moments: the store must hold exactly the keys of the
// changes up to its last id, at least the last id acknowledged.
func TestKillDuringApply(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	for _, after := range []time.Duration{0, 700 * time.Microsecond, 3 * time.Millisecond} {
		killDuringApply(t, after)
	}
}

// killDuringApply kills the child after it acknowledged 20 changes and
// after more.
func killDuringApply(t *testing.T, after time.Duration) {
	s := newStore(t)
	const first = 700000
	cmd := helper(t, "replica", s.Path(), first, 0)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(out)
	var acked int64
	for acked < 20 { // let it apply some batches first
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("helper: %v", err)
		}
		acked, _ = strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	}
	time.Sleep(after)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			break // a line without its newline was never acknowledged
		}
		acked, _ = strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	}
	_ = cmd.Wait()
	checkConsistent(t, s.Path())
	last, _, ok, err := s.ReplicaState()
	if err != nil || !ok || last < acked {
		t.Fatalf("ReplicaState() = %d, %v, %v; want at least the acknowledged %d", last, ok, err, acked)
	}
	if n, err := s.Count(); err != nil || int64(n) != last {
		t.Fatalf("Count() = %d, %v; want %d, one key per change up to the last id", n, err, last)
	}
	if _, err := s.Lookup(testKey(first + int(last) + 1).Fingerprint); !errors.Is(err, ErrNotFound) {
		t.Fatalf("key of change %d: Lookup = %v; want ErrNotFound", last+1, err)
	}
	t.Logf("killed %v after change 20: at change %d (acknowledged %d)", after, last, acked)
}

// TestLookupMaxLag: a store opened with MaxLag answers lookups only while
// its replica was confirmed current within MaxLag: never (no state yet)
// and too long ago are a *StaleError for every key, found or not.
func TestLookupMaxLag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s := Open(path, Options{})
	r := rec("alice", 1)
	if _, err := s.Add([]Record{r}); err != nil {
		t.Fatal(err)
	}
	fp := r.Key.Fingerprint
	var stale *StaleError
	if _, err := Open(path, Options{MaxLag: time.Minute}).Lookup(fp); !errors.As(err, &stale) || stale.Behind != 0 {
		t.Fatalf("Lookup on a store with no replica state = %v, want a StaleError (never current)", err)
	}
	if err := s.ApplyReplica(0, nil, 0); err != nil {
		t.Fatal(err)
	}
	if got, err := Open(path, Options{MaxLag: time.Minute}).Lookup(fp); err != nil || got.User != "alice" {
		t.Fatalf("Lookup on a current replica = %v, %v", got, err)
	}
	// A bound of a nanosecond: the confirmation is always older.
	if _, err := Open(path, Options{MaxLag: time.Nanosecond}).Lookup(fp); !errors.As(err, &stale) || stale.Behind <= 0 {
		t.Fatalf("Lookup beyond MaxLag = %v, want a StaleError", err)
	}
	if _, err := Open(path, Options{MaxLag: time.Nanosecond}).Lookup(testKey(9).Fingerprint); !errors.As(err, &stale) {
		t.Fatalf("Lookup of a missing key beyond MaxLag = %v, want a StaleError, not not-found", err)
	}
	if _, err := Open(path, Options{}).Lookup(fp); err != nil {
		t.Fatalf("without MaxLag: %v", err)
	}
}
