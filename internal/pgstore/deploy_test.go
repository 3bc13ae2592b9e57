package pgstore

import (
	"context"
	"reflect"
	"testing"

	"github.com/gitserver/gitserver/keys"
)

// TestDeployKeyRoundTrip: a deploy key's grant survives PostgreSQL, the
// change log (what replicas apply) and the snapshot, and comes back
// with its removal.
func TestDeployKeyRoundTrip(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	d := rec(keys.DeployUser, 1)
	d.Deploy = &keys.Deploy{Repos: []string{"team/app"}, Write: true, Refs: []string{"refs/heads/deploy/*"}}
	if _, err := s.AddKeys(ctx, []keys.Record{d, rec("alice", 2)}); err != nil {
		t.Fatal(err)
	}
	changes, err := s.ChangesSince(ctx, 0, 0)
	if err != nil || len(changes) != 2 {
		t.Fatalf("changes: %v %v", changes, err)
	}
	var seen int
	for _, c := range changes {
		if c.Record.User == keys.DeployUser {
			seen++
			if !reflect.DeepEqual(c.Record.Deploy, d.Deploy) {
				t.Errorf("change carries %+v, want %+v", c.Record.Deploy, d.Deploy)
			}
		} else if c.Record.Deploy != nil {
			t.Errorf("alice's key has a grant: %+v", c.Record.Deploy)
		}
	}
	_, err = s.Snapshot(ctx, func(r keys.Record) error {
		if r.User == keys.DeployUser && !reflect.DeepEqual(r.Deploy, d.Deploy) {
			t.Errorf("snapshot: %+v", r.Deploy)
		}
		return nil
	})
	if err != nil || seen != 1 {
		t.Fatalf("snapshot: %v (seen %d)", err, seen)
	}
	removed, err := s.RemoveKey(ctx, d.Key.Fingerprint)
	if err != nil || !reflect.DeepEqual(removed.Deploy, d.Deploy) {
		t.Fatalf("RemoveKey = %+v, %v", removed.Deploy, err)
	}
}
