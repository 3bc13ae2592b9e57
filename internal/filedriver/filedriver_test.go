package filedriver

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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

// allowed asks the driver whether user may fetch repo.
func (f *fixture) allowed(user, repo string) (bool, error) {
	f.t.Helper()
	dec, err := f.drv.Authorize(context.Background(), userModel(user), shim.UploadPack, repo)
	return dec.Allow, err
}

func userModel(name string) shim.UserModel { return user{name} }

// readPolicy grants read access to team/app to the users, a TOML list.
func readPolicy(users string) string {
	return fmt.Sprintf("[[rule]]\nrepos = [\"team/app\"]\nusers = %s\naccess = \"read\"\n", users)
}

func TestCheckKey(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	if _, err := f.drv.CheckKey(ctx, "alice", testKey(1).Fingerprint); !errors.Is(err, shim.ErrUnknownKey) {
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
		m, err := f.drv.CheckKey(ctx, tt.user, testKey(tt.key).Fingerprint)
		if err == nil && m != (user{tt.user}) {
			t.Errorf("CheckKey(%s, key %d) model = %#v, want %s's", tt.user, tt.key, m, tt.user)
		}
		if tt.unknown && !errors.Is(err, shim.ErrUnknownKey) || !tt.unknown && err != nil {
			t.Errorf("CheckKey(%s, key %d) = %v, want unknown %v", tt.user, tt.key, err, tt.unknown)
		}
	}
	_, err := f.drv.CheckKey(ctx, "alice", testKey(2).Fingerprint)
	if msg := fmt.Sprint(err); !strings.Contains(msg, "another user") || strings.Contains(msg, "bob") {
		t.Errorf("CheckKey of a moved key = %q, want it to say another user has it, not who", msg)
	}
	f.remove(1)
	if _, err := f.drv.CheckKey(ctx, "alice", testKey(1).Fingerprint); !errors.Is(err, shim.ErrUnknownKey) {
		t.Errorf("CheckKey of a removed key = %v, want ErrUnknownKey", err)
	}
	if _, err := f.drv.CheckKey(ctx, "alice", "SHA256:short"); err == nil || errors.Is(err, shim.ErrUnknownKey) {
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

// TestPolicyChanges rewrites the policy file between decisions of one
// Driver, in the ways an operator or a tool does, and checks that the
// very next decision uses the new file.
func TestPolicyChanges(t *testing.T) {
	past := time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, tt := range []struct {
		name   string
		window time.Duration // racyWindow
	}{
		{"stat only", 0},
		{"racy", racyWindow},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func(w time.Duration) { racyWindow = w }(racyWindow)
			racyWindow = tt.window
			f := newFixture(t, readPolicy(`["alice"]`))
			steps := []struct {
				what  string
				edit  func()
				alice bool // whether alice may read team/app
				err   bool
			}{
				{"the first version", func() {}, true, false},
				{"unchanged", func() {}, true, false},
				{"a longer rewrite", func() { f.writePolicy(readPolicy(`["bob", "carol"]`)) }, false, false},
				{"a rewrite of the same size, another mtime", func() {
					f.writePolicy(readPolicy(`["bob", "alice"]`))
					f.chtimes(past)
				}, true, false},
				{"another one", func() {
					f.writePolicy(readPolicy(`["bob", "carol"]`))
					f.chtimes(past.Add(time.Second))
				}, false, false},
				{"a file of the same size and mtime renamed over it", func() {
					f.renamePolicy(readPolicy(`["bob", "alice"]`), past.Add(time.Second))
				}, true, false},
				{"a policy that does not parse", func() { f.writePolicy(readPolicy(`"alice"`)) }, false, true},
				{"still the same", func() {}, false, true},
				{"fixed", func() { f.writePolicy(readPolicy(`["alice", "bob"]`)) }, true, false},
				{"removed", func() { os.Remove(f.policy) }, false, true},
				{"a directory in its place", func() { os.Mkdir(f.policy, 0o755) }, false, true},
				{"back", func() {
					os.Remove(f.policy)
					f.writePolicy(readPolicy(`["alice"]`))
				}, true, false},
			}
			for _, step := range steps {
				step.edit()
				ok, err := f.allowed("alice", "team/app")
				if ok != step.alice || (err != nil) != step.err {
					t.Errorf("after %s: alice allowed %v, %v; want %v, error %v", step.what, ok, err, step.alice, step.err)
				}
				if _, err := f.drv.Policy(); (err != nil) != step.err {
					t.Errorf("after %s: Policy() = %v, want error %v", step.what, err, step.err)
				}
				if msg := fmt.Sprint(err); step.err && strings.Contains(msg, "parse") &&
					(strings.Count(msg, "denied") != 1 || !strings.Contains(msg, f.policy+":3:")) {
					t.Errorf("after %s: error %q, want it to say once that it denies, and the line", step.what, msg)
				}
			}
		})
	}
}

// TestPolicySameStat rewrites the policy in place with the same size and
// puts the mtime back, as cp -p or rsync -t do: only the ctime, or within
// racyWindow the bytes, tell the versions apart.
func TestPolicySameStat(t *testing.T) {
	f := newFixture(t, readPolicy(`["alice"]`))
	fi, err := os.Stat(f.policy)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := f.allowed("alice", "team/app"); !ok || err != nil {
		t.Fatalf("alice allowed %v, %v; want true", ok, err)
	}
	f.writePolicy(readPolicy(`["carol"]`))
	f.chtimes(fi.ModTime())
	if ok, err := f.allowed("alice", "team/app"); ok || err != nil {
		t.Errorf("after a same-size rewrite with the old mtime: alice allowed %v, %v; want false", ok, err)
	}
}

// TestPolicyParsedOnce checks that an unchanged file is not parsed again,
// with or without the racy re-read.
func TestPolicyParsedOnce(t *testing.T) {
	defer func(w time.Duration) { racyWindow = w }(racyWindow)
	for _, w := range []time.Duration{0, racyWindow} {
		racyWindow = w
		f := newFixture(t, readPolicy(`["alice"]`))
		p1, err1 := f.drv.Policy()
		f.allowed("alice", "team/app")
		p2, err2 := f.drv.Policy()
		if err1 != nil || err2 != nil || p1 != p2 {
			t.Errorf("racyWindow %v: Policy() = %p, %v, then %p, %v; want the same policy twice", w, p1, err1, p2, err2)
		}
	}
}

// TestPolicyConcurrent decides from many goroutines while the file is
// replaced; run with -race. Every decision must come from one of the
// versions, and the one after the last replacement from the last.
func TestPolicyConcurrent(t *testing.T) {
	f := newFixture(t, readPolicy(`["alice"]`))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if _, err := f.drv.Authorize(context.Background(), userModel("alice"), shim.UploadPack, "team/app"); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range 50 {
		users := `["alice"]`
		if i%2 == 0 {
			users = `["bob"]`
		}
		f.renamePolicy(readPolicy(users), time.Unix(int64(i), 0))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Authorize during replacements = %v", err)
	}
	if ok, err := f.allowed("alice", "team/app"); !ok || err != nil {
		t.Errorf("after the last replacement: alice allowed %v, %v; want true", ok, err)
	}
}

func (f *fixture) chtimes(mtime time.Time) {
	f.t.Helper()
	if err := os.Chtimes(f.policy, mtime, mtime); err != nil {
		f.t.Fatal(err)
	}
}

// renamePolicy replaces the policy file by a new one with the given
// content and mtime, as an editor that writes a copy does.
func (f *fixture) renamePolicy(pol string, mtime time.Time) {
	f.t.Helper()
	tmp := f.policy + ".new"
	if err := os.WriteFile(tmp, []byte(pol), 0o644); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Rename(tmp, f.policy); err != nil {
		f.t.Fatal(err)
	}
}

// TestCreator checks {creator} against a repository whose creator real
// git recorded, as setup.CreateOnPush does.
func TestCreator(t *testing.T) {
	f := newFixture(t, "[[rule]]\nrepos = [\"**\"]\nusers = [\"{creator}\"]\naccess = \"write\"\n")
	git, err := shim.LookGit()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(f.repos, "team/app.git")
	for _, args := range [][]string{
		{"init", "--bare", "--quiet", dir},
		{"config", "--file", filepath.Join(dir, "config"), CreatorKey, "alice"},
	} {
		cmd := exec.Command(git, args...)
		cmd.Env = []string{"PATH=" + shim.SafePath, "GIT_CONFIG_NOSYSTEM=1", "HOME=" + t.TempDir()}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	for _, tt := range []struct {
		user, repo string
		want       bool
	}{
		{"alice", "team/app", true},
		{"bob", "team/app", false},
		{"bob", "team/new", true}, // would be its creator
	} {
		if ok, err := f.allowed(tt.user, tt.repo); ok != tt.want || err != nil {
			t.Errorf("%s on %s: allowed %v, %v; want %v", tt.user, tt.repo, ok, err, tt.want)
		}
	}
}
