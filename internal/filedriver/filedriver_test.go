package filedriver

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/shim"
)

// testKey returns the i-th test key, derived from a fixed seed: for
// tests only, NEVER use it anywhere else.
func testKey(i int) keys.Key {
	seed := sha256.Sum256(fmt.Appendf(nil, "gitserver filedriver test key %d", i))
	pk, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(seed[:]).Public())
	if err != nil {
		panic(err)
	}
	blob := pk.Marshal()
	return keys.Key{Type: pk.Type(), Blob: blob, Fingerprint: keys.Fingerprint(blob)}
}

// fixture is a driver on a key store and a policy file in a temp dir.
type fixture struct {
	t      *testing.T
	drv    *Driver
	store  *keys.Store
	policy string
	repos  string
}

func newFixture(t *testing.T, pol string) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, policy: filepath.Join(dir, "policy.toml"), repos: filepath.Join(dir, "repos")}
	f.drv = New(shim.DriverConfig{Repos: f.repos, DataDir: dir, Policy: f.policy})
	f.store = f.drv.KeyStore()
	if pol != "" {
		f.writePolicy(pol)
	}
	return f
}

func (f *fixture) add(user string, i int) {
	f.t.Helper()
	if _, err := f.store.Add([]keys.Record{{User: user, Key: testKey(i)}}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) remove(i int) {
	f.t.Helper()
	if _, err := f.store.Remove(testKey(i).Fingerprint); err != nil {
		f.t.Fatal(err)
	}
}

// writePolicy rewrites the policy file in place, as an editor that keeps
// the inode does.
func (f *fixture) writePolicy(pol string) {
	f.t.Helper()
	if err := os.WriteFile(f.policy, []byte(pol), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func userModel(name string) shim.UserModel { return user{name} }

func TestCheckKey(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	if err := f.drv.CheckKey(ctx, "alice", testKey(1).Fingerprint); !errors.Is(err, shim.ErrUnknownKey) {
		t.Errorf("CheckKey on no store = %v, want ErrUnknownKey", err)
	}
	f.add("alice", 1)
	f.add("alice", 2)
	f.add("bob", 3)
	f.remove(2)
	f.add("bob", 2) // alice's key 2 is bob's now
	for _, tt := range []struct {
		user    string
		key     int
		unknown bool
	}{
		{"alice", 1, false},
		{"bob", 3, false},
		{"bob", 2, false},
		{"alice", 2, true}, // moved to bob
		{"alice", 3, true}, // bob's
		{"bob", 1, true},   // alice's
		{"carol", 1, true}, // no such user
		{"alice", 4, true}, // not in the store
	} {
		err := f.drv.CheckKey(ctx, tt.user, testKey(tt.key).Fingerprint)
		if tt.unknown && !errors.Is(err, shim.ErrUnknownKey) || !tt.unknown && err != nil {
			t.Errorf("CheckKey(%s, key %d) = %v, want unknown %v", tt.user, tt.key, err, tt.unknown)
		}
	}
	err := f.drv.CheckKey(ctx, "alice", testKey(2).Fingerprint)
	if msg := fmt.Sprint(err); !strings.Contains(msg, "another user") || strings.Contains(msg, "bob") {
		t.Errorf("CheckKey of a moved key = %q, want it to say another user has it, not who", msg)
	}
	f.remove(1)
	if err := f.drv.CheckKey(ctx, "alice", testKey(1).Fingerprint); !errors.Is(err, shim.ErrUnknownKey) {
		t.Errorf("CheckKey of a removed key = %v, want ErrUnknownKey", err)
	}
	if err := f.drv.CheckKey(ctx, "alice", "SHA256:short"); err == nil || errors.Is(err, shim.ErrUnknownKey) {
		t.Errorf("CheckKey of a malformed fingerprint = %v, want another error", err)
	}
}

func TestGetUserModel(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	if _, err := f.drv.GetUserModel(ctx, "alice"); !errors.Is(err, shim.ErrUnknownUser) {
		t.Errorf("GetUserModel on no store = %v, want ErrUnknownUser", err)
	}
	f.add("alice", 1)
	f.add("alice", 2)
	f.add("alice.b", 3)
	for _, step := range []struct {
		remove int // key to remove first, 0 for none
		user   string
		known  bool
	}{
		{0, "alice", true},
		{0, "alice.b", true},
		{0, "al", false},
		{1, "alice", true},
		{2, "alice", false}, // the last key is gone
		{0, "alice.b", true},
		{3, "alice.b", false},
	} {
		if step.remove != 0 {
			f.remove(step.remove)
		}
		m, err := f.drv.GetUserModel(ctx, step.user)
		if step.known && (err != nil || m != userModel(step.user)) || !step.known && !errors.Is(err, shim.ErrUnknownUser) {
			t.Errorf("after removing key %d, GetUserModel(%s) = %v, %v; want known %v", step.remove, step.user, m, err, step.known)
		}
	}
	if _, err := f.drv.GetUserModel(ctx, "-alice"); err == nil || errors.Is(err, shim.ErrUnknownUser) {
		t.Errorf("GetUserModel(-alice) = %v, want an invalid-username error", err)
	}
}
