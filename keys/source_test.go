package keys

import (
	"errors"
	"strings"
	"testing"
)

// TestReplicaRefusesLocalWrites: once a store is a replica, a write that
// would change it on this host alone fails, and the replica is unchanged.
func TestReplicaRefusesLocalWrites(t *testing.T) {
	s := newStore(t)
	a := rec("alice", 1)
	if err := s.ApplyReplica(0, []ReplicaChange{withID(1, added(a))}, 1); err != nil {
		t.Fatal(err)
	}
	fp := a.Key.Fingerprint
	writes := map[string]func() error{
		"Add":        func() error { _, err := s.Add([]Record{rec("bob", 2)}); return err },
		"Import":     func() error { _, _, err := s.Import([]Record{rec("bob", 2)}); return err },
		"Remove":     func() error { _, err := s.Remove(fp); return err },
		"RemoveUser": func() error { _, err := s.RemoveUser("alice"); return err },
		"RemoveOwn":  func() error { return s.RemoveOwn("alice", fp, false) },
	}
	for name, write := range writes {
		if err := write(); !errors.Is(err, ErrReplica) {
			t.Errorf("%s on a replica = %v, want ErrReplica", name, err)
		}
	}
	wantKeys(t, s, "alice:1")
}

// recordingSource records the writes it is given.
type recordingSource struct{ calls []string }

func (r *recordingSource) Add(recs []Record) ([]Record, error) {
	r.calls = append(r.calls, "Add "+recs[0].User)
	return recs, nil
}

func (r *recordingSource) Import(recs []Record) (int, []error, error) {
	r.calls = append(r.calls, "Import "+recs[0].User)
	return len(recs), nil, nil
}

func (r *recordingSource) Remove(fps ...string) (int, error) {
	r.calls = append(r.calls, "Remove")
	return len(fps), nil
}

func (r *recordingSource) RemoveUser(user string) (int, error) {
	r.calls = append(r.calls, "RemoveUser "+user)
	return 1, nil
}

func (r *recordingSource) RemoveOwn(user, fp string, keepLast bool) error {
	r.calls = append(r.calls, "RemoveOwn "+user)
	return ErrLastKey
}

// TestSourceTakesWrites: with a Source, every write goes there, errors
// included, and the local file is not touched.
func TestSourceTakesWrites(t *testing.T) {
	src := &recordingSource{}
	s := Open(newStore(t).Path(), Options{Source: src})
	s.Add([]Record{rec("alice", 1)})
	s.Import([]Record{rec("bob", 2)})
	s.Remove(rec("alice", 1).Key.Fingerprint)
	s.RemoveUser("carol")
	if err := s.RemoveOwn("dave", rec("dave", 3).Key.Fingerprint, true); !errors.Is(err, ErrLastKey) {
		t.Errorf("RemoveOwn = %v, want the source's ErrLastKey", err)
	}
	if got, want := strings.Join(src.calls, ", "), "Add alice, Import bob, Remove, RemoveUser carol, RemoveOwn dave"; got != want {
		t.Errorf("source got %s, want %s", got, want)
	}
	if _, err := s.Lookup(rec("alice", 1).Key.Fingerprint); !errors.Is(err, ErrNoStore) {
		t.Errorf("Lookup after a write through the source = %v, want ErrNoStore (nothing written locally)", err)
	}
}
