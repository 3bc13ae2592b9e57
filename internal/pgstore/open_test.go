package pgstore

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gitserver/gitserver/keys"
)

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dir := t.TempDir()
	_, err := Open(ctx, "host="+dir+" port=5432 user=x password=secret dbname=gs")
	if err == nil {
		t.Fatal("Open of a socket nobody listens on = nil, want an error")
	}
	for _, want := range []string{"cannot reach PostgreSQL at " + dir + ":5432/gs", "logins go on from the local replica"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open = %v, want it to say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("Open = %v, shows the password", err)
	}
}

// TestNotify checks that a write sends its last change id on Channel.
func TestNotify(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, dsn := newStore(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddKeys(ctx, []keys.Record{rec("alice", 1), rec("alice", 2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveKey(ctx, testKey(1).Fingerprint); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int64{2, 3} {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n.Channel != Channel || n.Payload != strconv.FormatInt(want, 10) {
			t.Errorf("notification %s %q, want %s %q", n.Channel, n.Payload, Channel, strconv.FormatInt(want, 10))
		}
	}
}

func TestBounds(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	recs := make([]keys.Record, MaxAddKeys+1)
	if _, err := s.AddKeys(ctx, recs); err == nil || !strings.Contains(err.Error(), "in batches") {
		t.Errorf("AddKeys of %d records = %v, want an error saying to batch", len(recs), err)
	}
	var batch []keys.Record
	for i := range 30 {
		batch = append(batch, rec("alice", i))
	}
	if _, err := s.AddKeys(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ limit, want int }{{10, 10}, {0, 30}, {-1, 30}, {MaxChanges + 1, 30}} {
		if cs, err := s.ChangesSince(ctx, 0, tt.limit); err != nil || len(cs) != tt.want {
			t.Errorf("ChangesSince(0, %d) = %d changes, %v; want %d", tt.limit, len(cs), err, tt.want)
		}
	}
}
