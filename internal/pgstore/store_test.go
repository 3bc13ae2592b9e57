package pgstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/pgtest"
	"github.com/gitserver/gitserver/keys"
)

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Start(t)
	s := openStore(t, dsn)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = openStore(t, dsn).Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Migrate %d: %v", i, err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Errorf("Migrate again: %v", err)
	}
	var v int
	if err := s.pool.QueryRow(ctx, `SELECT version FROM gitserver_schema`).Scan(&v); err != nil || v != SchemaVersion {
		t.Errorf("schema version = %d, %v; want %d", v, err, SchemaVersion)
	}
	if len(migrations) != SchemaVersion {
		t.Errorf("%d migrations, SchemaVersion %d", len(migrations), SchemaVersion)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE gitserver_schema SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "upgrade gitserver") {
		t.Errorf("Migrate on a newer schema = %v, want an error saying to upgrade", err)
	}
}

func TestAddRemove(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	a, b := rec("alice", 1), rec("bob", 2)
	a.Added = time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.FixedZone("x", 3600))
	added, err := s.AddKeys(ctx, []keys.Record{a, b})
	if err != nil || len(added) != 2 {
		t.Fatalf("AddKeys = %d records, %v; want 2, nil", len(added), err)
	}
	if want := time.Date(2026, 1, 2, 2, 4, 5, 678901000, time.UTC); !added[0].Added.Equal(want) || added[0].Added.Location() != time.UTC {
		t.Errorf("Added = %v, want %v", added[0].Added, want)
	}
	if again, err := s.AddKeys(ctx, []keys.Record{a}); err != nil || len(again) != 0 {
		t.Errorf("AddKeys of alice's key to alice again = %d, %v; want 0, nil", len(again), err)
	}

	// All or nothing: a conflict stops the fresh key beside it.
	stolen := a
	stolen.User = "mallory"
	_, err = s.AddKeys(ctx, []keys.Record{rec("carol", 3), stolen})
	var ce *keys.ConflictError
	if !errors.As(err, &ce) || ce.Fingerprint != a.Key.Fingerprint || ce.Owner != "alice" {
		t.Fatalf("AddKeys of alice's key to mallory = %v, want a ConflictError naming it", err)
	}
	if _, err := s.RemoveKey(ctx, rec("carol", 3).Key.Fingerprint); !errors.Is(err, keys.ErrNotFound) {
		t.Errorf("carol's key was added beside a conflict (RemoveKey = %v)", err)
	}

	got, err := s.RemoveKey(ctx, b.Key.Fingerprint)
	if err != nil || line(got) != line(added[1]) {
		t.Errorf("RemoveKey = %q, %v; want %q", line(got), err, line(added[1]))
	}
	if _, err := s.RemoveKey(ctx, b.Key.Fingerprint); !errors.Is(err, keys.ErrNotFound) {
		t.Errorf("RemoveKey again = %v, want ErrNotFound", err)
	}
	if _, err := s.RemoveKey(ctx, "MD5:xx"); err == nil {
		t.Errorf("RemoveKey(MD5:xx) = nil, want an error")
	}

	changes := follow(t, s, 0, 10)
	want := []string{"1 key-add alice", "2 key-add bob", "3 key-remove bob"}
	if len(changes) != len(want) {
		t.Fatalf("%d changes, want %d: %v", len(changes), len(want), changes)
	}
	for i, c := range changes {
		if g := strings.Join([]string{strconv.FormatInt(c.ID, 10), c.Kind, c.Record.User}, " "); g != want[i] {
			t.Errorf("change %d = %q, want %q", i, g, want[i])
		}
	}
	if line(changes[0].Record) != line(added[0]) {
		t.Errorf("change 1 carries %q, want %q", line(changes[0].Record), line(added[0]))
	}
}

func TestSnapshotAndChanges(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	addRange := func(from, to int) {
		var recs []keys.Record
		for i := from; i < to; i++ {
			recs = append(recs, rec([]string{"alice", "bob", "carol"}[i%3], i))
		}
		if _, err := s.AddKeys(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	addRange(0, 200)
	for i := 0; i < 200; i += 7 {
		if _, err := s.RemoveKey(ctx, testKey(i).Fingerprint); err != nil {
			t.Fatal(err)
		}
	}
	addRange(200, 300)

	replica := map[string]keys.Record{}
	last, err := s.Snapshot(ctx, func(r keys.Record) error { replica[r.Key.Fingerprint] = r; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if got, want := digest(replica), tableDigest(t, s); got != want {
		t.Errorf("snapshot %s, table %s", got, want)
	}
	fromLog := map[string]keys.Record{}
	all := follow(t, s, 0, 37)
	replay(t, fromLog, all)
	if got, want := digest(fromLog), digest(replica); got != want || all[len(all)-1].ID != last {
		t.Errorf("changes 1..%d give %s, snapshot at %d gives %s", all[len(all)-1].ID, got, last, want)
	}

	// After more writes, the snapshot plus the changes since it is the table.
	addRange(300, 350)
	for i := 1; i < 350; i += 5 {
		if _, err := s.RemoveKey(ctx, testKey(i).Fingerprint); err != nil && !errors.Is(err, keys.ErrNotFound) {
			t.Fatal(err)
		}
	}
	replay(t, replica, follow(t, s, last, 37))
	if got, want := digest(replica), tableDigest(t, s); got != want {
		t.Errorf("snapshot + changes %s, table %s", got, want)
	}

	stop := errors.New("stop")
	if _, err := s.Snapshot(ctx, func(keys.Record) error { return stop }); err != stop {
		t.Errorf("Snapshot with fn failing = %v, want fn's error", err)
	}
}
