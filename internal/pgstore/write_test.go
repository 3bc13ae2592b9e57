package pgstore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/policy"
)

// TestImportKeys adds the good records and rejects the rest, each with
// its change, as keys.Store.Import does.
func TestImportKeys(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if _, err := s.AddKeys(ctx, []keys.Record{rec("alice", 1)}); err != nil {
		t.Fatal(err)
	}
	bad := rec("bob", 4)
	bad.User = "-bob"
	added, rejected, err := s.ImportKeys(ctx, []keys.Record{rec("bob", 2), rec("bob", 3), bad, rec("bob", 1)})
	if err != nil || added != 2 || len(rejected) != 2 {
		t.Fatalf("ImportKeys = %d, %v, %v; want 2 added, 2 rejected", added, rejected, err)
	}
	var ce *keys.ConflictError
	if !errors.As(errors.Join(rejected...), &ce) || ce.Owner != "alice" {
		t.Errorf("rejected = %v, want a conflict with alice's key", rejected)
	}
	if got := kinds(follow(t, s, 0, 100)); got != "key-add key-add key-add" {
		t.Errorf("changes = %s, want three key-adds", got)
	}
}

// TestRemoves: RemoveKeys, RemoveUser and RemoveOwn remove what
// keys.Store's methods of the same names do, with one change per key.
func TestRemoves(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if _, err := s.AddKeys(ctx, []keys.Record{rec("alice", 1), rec("alice", 2), rec("bob", 3), rec("bob", 4), rec("carol", 5)}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RemoveKeys(ctx, testKey(1).Fingerprint, testKey(9).Fingerprint); n != 1 || err != nil {
		t.Errorf("RemoveKeys(1, 9) = %d, %v; want 1", n, err)
	}
	if _, err := s.RemoveKeys(ctx, "MD5:x"); err == nil {
		t.Error("RemoveKeys(MD5:x) succeeded")
	}
	if err := s.RemoveOwn(ctx, "alice", testKey(2).Fingerprint, true); !errors.Is(err, keys.ErrLastKey) {
		t.Errorf("RemoveOwn(alice's last key, keepLast) = %v, want ErrLastKey", err)
	}
	if err := s.RemoveOwn(ctx, "alice", testKey(3).Fingerprint, false); !errors.Is(err, keys.ErrNotFound) {
		t.Errorf("RemoveOwn(bob's key as alice) = %v, want ErrNotFound", err)
	}
	if err := s.RemoveOwn(ctx, "bob", testKey(3).Fingerprint, true); err != nil {
		t.Errorf("RemoveOwn(bob's key, keepLast, bob has two) = %v", err)
	}
	if n, err := s.RemoveUser(ctx, "alice"); n != 1 || err != nil {
		t.Errorf("RemoveUser(alice) = %d, %v; want 1", n, err)
	}
	if n, err := s.RemoveUser(ctx, "nobody"); n != 0 || err != nil {
		t.Errorf("RemoveUser(nobody) = %d, %v; want 0", n, err)
	}
	if got, want := kinds(follow(t, s, 0, 100)), "key-add key-add key-add key-add key-add key-remove key-remove key-remove"; got != want {
		t.Errorf("changes = %s, want %s", got, want)
	}
	replica := map[string]keys.Record{}
	replay(t, replica, follow(t, s, 0, 100))
	if got, want := digest(replica), tableDigest(t, s); got != want {
		t.Errorf("replayed log = %s, table = %s", got, want)
	}
}

// TestPolicy: each push is a version with its change, in the same log as
// the keys; Policy reads a version or the newest; a row edited by hand
// is refused.
func TestPolicy(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if _, ok, err := s.Policy(ctx, 0); ok || err != nil {
		t.Fatalf("Policy(newest) on a new store = %v, %v; want none", ok, err)
	}
	v1, err := s.PushPolicy(ctx, []byte("# one\n"), "root@a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddKeys(ctx, []keys.Record{rec("alice", 1)}); err != nil {
		t.Fatal(err)
	}
	v2, err := s.PushPolicy(ctx, []byte("# two\n"), "alice")
	if err != nil || v2 != v1+2 {
		t.Fatalf("PushPolicy = %d, %v; want version %d", v2, err, v1+2)
	}
	changes := follow(t, s, 0, 100)
	if got := kinds(changes); got != "policy key-add policy" {
		t.Errorf("changes = %s", got)
	}
	if c := changes[2]; c.ID != v2 || c.PolicySHA256 != policy.Digest([]byte("# two\n")) {
		t.Errorf("policy change = %+v, want version %d with the digest of its document", c, v2)
	}
	for _, tt := range []struct {
		version int64
		want    string
	}{{0, "# two\n"}, {v1, "# one\n"}, {v2, "# two\n"}} {
		doc, ok, err := s.Policy(ctx, tt.version)
		if !ok || err != nil || string(doc.Document) != tt.want || doc.At.IsZero() {
			t.Errorf("Policy(%d) = %+v, %v, %v; want %q", tt.version, doc, ok, err, tt.want)
		}
	}
	if doc, _, _ := s.Policy(ctx, v2); doc.By != "alice" {
		t.Errorf("Policy(%d).By = %q, want alice", v2, doc.By)
	}
	if _, ok, err := s.Policy(ctx, 99); ok || err != nil {
		t.Errorf("Policy(99) = %v, %v; want none", ok, err)
	}
	if _, err := s.PushPolicy(ctx, make([]byte, policy.MaxSize+1), "root"); err == nil {
		t.Error("PushPolicy of a document over policy.MaxSize succeeded")
	}
	if _, err := s.pool.Exec(ctx, `UPDATE gitserver_policy SET document = 'x' WHERE version = $1`, v2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Policy(ctx, 0); err == nil || !strings.Contains(err.Error(), "edited by hand") {
		t.Errorf("Policy of an edited row = %v, want an error", err)
	}
}

// kinds lists the kinds of changes.
func kinds(changes []Change) string {
	var k []string
	for _, c := range changes {
		k = append(k, c.Kind)
	}
	return strings.Join(k, " ")
}
