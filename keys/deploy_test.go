package keys

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gitserver/gitserver/keys/internal/testkeys"
)

func TestDeployRecord(t *testing.T) {
	k := keyOf(testkeys.Ed25519(7), "ci")
	d := &Deploy{Repos: []string{"team/app", "team/lib"}, Write: true, Refs: []string{"refs/heads/deploy/*"}}
	r := Record{User: DeployUser, Title: "ci for app", Key: k, Added: time.Unix(1700000000, 0).UTC(), Deploy: d}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	b, err := encodeRecord(r)
	if err != nil || b[0] != recordVersionDeploy {
		t.Fatalf("encode: %v, version %d", err, b[0])
	}
	got, err := decodeRecord(k.Fingerprint, b)
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("decode = %+v, %v; want %+v", got, err, r)
	}
	if storedUser(b) != DeployUser {
		t.Errorf("storedUser = %q", storedUser(b))
	}
	for i := 1; i < len(b); i++ {
		if _, err := decodeRecord(k.Fingerprint, b[:i]); err == nil {
			t.Fatalf("a record cut to %d bytes decoded", i)
		}
	}
	for _, bad := range []Record{
		{User: DeployUser, Key: k},                    // the reserved name without a grant
		{User: "alice", Key: k, Deploy: d},            // a grant on a person's key
		{User: DeployUser, Key: k, Deploy: &Deploy{}}, // no repository
		{User: DeployUser, Key: k, Deploy: &Deploy{Repos: []string{"a"}, Refs: []string{"refs/heads/x"}}}, // refs without write
		{User: DeployUser, Key: k, Deploy: &Deploy{Repos: []string{"a b"}}},
		{User: DeployUser, Key: k, Deploy: &Deploy{Repos: []string{"a"}, Write: true, Refs: []string{"heads/x"}}},
		{User: DeployUser, Key: k, Deploy: &Deploy{Repos: []string{strings.Repeat("a", 300)}}},
	} {
		if err := bad.Check(); err == nil {
			t.Errorf("Check(%+v) accepted it", bad)
		}
	}
	// In a store: one lookup, and never also a person's key.
	s := Open(filepath.Join(t.TempDir(), "keys.db"), Options{})
	if _, err := s.Add([]Record{r}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Lookup(k.Fingerprint); err != nil || got.Deploy == nil || got.Deploy.Refs[0] != "refs/heads/deploy/*" {
		t.Fatalf("Lookup = %+v, %v", got, err)
	}
	if _, err := s.Add([]Record{{User: "alice", Key: k}}); err == nil {
		t.Fatal("a deploy key was added again as alice's")
	}
}
