package replicate

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// waitFile polls path until it holds want, failing after d.
func waitFile(t *testing.T, path, want string, d time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		data, _ := os.ReadFile(path)
		if string(data) == want {
			t.Logf("policy %q after %v", want, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > d {
			t.Fatalf("policy file holds %q, want %q within %v", data, want, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const (
	policyOne = "[[rule]]\nusers = [\"alice\"]\nrepos = [\"**\"]\naccess = \"read\"\n"
	policyTwo = "[[rule]]\nusers = [\"bob\"]\nrepos = [\"**\"]\naccess = \"write\"\n"
)

// TestPolicyFollowed: the policy in the source replaces the local file at
// the start's snapshot, then at each push, within a second; a host
// without PolicyFile leaves its file alone.
func TestPolicyFollowed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "policy.toml")
	if _, err := f.pg.PushPolicy(ctx, []byte(policyOne), "root"); err != nil {
		t.Fatal(err)
	}
	f.run(Options{Poll: time.Minute, PolicyFile: path})
	waitFile(t, path, policyOne, 5*time.Second)
	if _, err := f.pg.PushPolicy(ctx, []byte(policyTwo), "alice"); err != nil {
		t.Fatal(err)
	}
	f.add(rec("alice", 1))
	waitFile(t, path, policyTwo, time.Second)
	f.within(time.Second, 1, true)
	if n := f.log.count("policy replaced"); n != 2 {
		t.Errorf("%d policy replacements logged, want 2", n)
	}
}

// TestPolicyNotParsingWritten: a document this host cannot parse is
// written all the same (the file driver then refuses requests) and
// logged as an error.
func TestPolicyNotParsingWritten(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "policy.toml")
	if _, err := f.pg.PushPolicy(ctx, []byte("future = true\n"), "root"); err != nil {
		t.Fatal(err)
	}
	f.run(Options{Poll: time.Minute, PolicyFile: path})
	waitFile(t, path, "future = true\n", 5*time.Second)
	if f.log.count("does not parse here") != 1 {
		t.Error("no error logged for a policy that does not parse")
	}
}

// TestSync brings a new replica up to date in one call, with the policy,
// and then only the changes after it.
func TestSync(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "policy.toml")
	log := hclog.New(&hclog.LoggerOptions{Output: f.log, Level: hclog.Debug})
	opt := Options{PolicyFile: path}
	f.add(rec("alice", 1))
	if _, err := f.pg.PushPolicy(ctx, []byte(policyOne), "root"); err != nil {
		t.Fatal(err)
	}
	if err := Sync(ctx, f.pg, f.local, log, opt); err != nil {
		t.Fatal(err)
	}
	f.within(0, 1, true)
	waitFile(t, path, policyOne, 0)
	f.remove(1)
	if _, err := f.pg.PushPolicy(ctx, []byte(policyTwo), "root"); err != nil {
		t.Fatal(err)
	}
	if err := Sync(ctx, f.pg, f.local, log, opt); err != nil {
		t.Fatal(err)
	}
	f.within(0, 1, false)
	waitFile(t, path, policyTwo, 0)
	if n := f.log.count("replica loaded from a snapshot"); n != 1 {
		t.Errorf("%d snapshots, want 1", n)
	}
	if last, _, _, _ := f.local.ReplicaState(); last != 4 {
		t.Errorf("replica at %d after Sync, want 4", last)
	}
}
