package keys

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitserver/gitserver/keys/internal/testkeys"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/ssh"
)

// testKey returns the i-th test ed25519 key as a Key.
func testKey(i int) Key {
	return keyOf(testkeys.Ed25519(i), fmt.Sprintf("key%d", i))
}

// keyOf is pk as a Key, as sshkey.ParseLine would return it.
func keyOf(pk ssh.PublicKey, comment string) Key {
	blob := pk.Marshal()
	return Key{Type: pk.Type(), Blob: blob, Comment: comment, Fingerprint: Fingerprint(blob)}
}

func rec(user string, i int) Record {
	return Record{User: user, Title: fmt.Sprintf("title %d", i), Key: testKey(i)}
}

func newStore(t *testing.T) *Store {
	t.Helper()
	return Open(filepath.Join(t.TempDir(), "keys.db"), Options{})
}

func mustAdd(t *testing.T, s *Store, recs ...Record) []Record {
	t.Helper()
	added, err := s.Add(recs)
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	return added
}

func TestLookup(t *testing.T) {
	s := newStore(t)
	if _, err := s.Lookup(testKey(1).Fingerprint); !errors.Is(err, ErrNoStore) || !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup in absent store = %v, want ErrNoStore wrapping ErrNotFound", err)
	}
	before := time.Now().Add(-time.Second)
	mustAdd(t, s, rec("alice", 1))
	got, err := s.Lookup(testKey(1).Fingerprint)
	if err != nil {
		t.Fatalf("Lookup = %v", err)
	}
	want := rec("alice", 1)
	if got.User != want.User || got.Title != want.Title || got.Key.AuthorizedKey() != want.Key.AuthorizedKey() ||
		got.Key.Comment != want.Key.Comment || got.Key.Fingerprint != want.Key.Fingerprint ||
		got.Added.Before(before) || got.Added.After(time.Now()) {
		t.Errorf("Lookup = %+v, want %+v added now", got, want)
	}
	if _, err := s.Lookup(testKey(2).Fingerprint); !errors.Is(err, ErrNotFound) || errors.Is(err, ErrNoStore) {
		t.Errorf("Lookup of absent key = %v, want ErrNotFound", err)
	}
	for _, fp := range []string{"", "MD5:aa:bb", "SHA256:short", ssh.FingerprintLegacyMD5(testkeys.Ed25519(1))} {
		if _, err := s.Lookup(fp); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Lookup(%q) = %v, want a malformed-fingerprint error", fp, err)
		}
	}
}

func TestAddAllOrNothing(t *testing.T) {
	s := newStore(t)
	mustAdd(t, s, rec("alice", 1), rec("alice", 2))
	_, err := s.Add([]Record{rec("bob", 3), rec("bob", 1), rec("bob", 4), rec("carol", 2)})
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Owner != "alice" || ce.Fingerprint != testKey(1).Fingerprint {
		t.Fatalf("Add of alice's key for bob = %v, want *ConflictError for key 1 owned by alice", err)
	}
	if msg := err.Error(); !strings.Contains(msg, testKey(1).Fingerprint) || !strings.Contains(msg, testKey(2).Fingerprint) {
		t.Errorf("Add error %q does not list both conflicts", msg)
	}
	for _, i := range []int{3, 4} {
		if _, err := s.Lookup(testKey(i).Fingerprint); !errors.Is(err, ErrNotFound) {
			t.Errorf("key %d of a failed Add: Lookup = %v, want ErrNotFound", i, err)
		}
	}
	if n, _ := s.Count(); n != 2 {
		t.Errorf("Count after failed Add = %d, want 2", n)
	}
}

func TestAddSkipsOwnKeys(t *testing.T) {
	s := newStore(t)
	mustAdd(t, s, rec("alice", 1))
	added := mustAdd(t, s, rec("alice", 1), rec("alice", 2), rec("alice", 2))
	if len(added) != 1 || added[0].Key.Fingerprint != testKey(2).Fingerprint {
		t.Errorf("Add = %v, want only key 2", added)
	}
	if _, err := s.Add([]Record{rec("bob", 5), rec("carol", 5)}); !errors.As(err, new(*ConflictError)) {
		t.Errorf("Add of one key for two users = %v, want a ConflictError", err)
	}
}

func TestAddInvalid(t *testing.T) {
	s := newStore(t)
	bad := rec("alice", 2)
	bad.Key.Fingerprint = testKey(3).Fingerprint
	for _, r := range []Record{rec("-x", 1), bad, {User: "alice", Title: "a\nb", Key: testKey(4)}, {User: "alice"}} {
		if _, err := s.Add([]Record{rec("alice", 1), r}); err == nil {
			t.Errorf("Add(%+v) = nil, want error", r)
		}
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("invalid Add created the store: %v", err)
	}
}

func TestImport(t *testing.T) {
	s := newStore(t)
	mustAdd(t, s, rec("alice", 1))
	added, errs, err := s.Import([]Record{rec("bob", 1), rec("bob", 2), rec("-bad", 3), rec("alice", 1), rec("carol", 4)})
	if err != nil || added != 2 || len(errs) != 2 || !errors.As(errs[0], new(*ConflictError)) && !errors.As(errs[1], new(*ConflictError)) {
		t.Errorf("Import = %d, %v, %v; want 2 added, one invalid record, one conflict", added, errs, err)
	}
	if n, _ := s.Count(); n != 3 {
		t.Errorf("Count = %d, want 3", n)
	}
}

func TestRemove(t *testing.T) {
	s := newStore(t)
	mustAdd(t, s, rec("alice", 1), rec("alice", 2), rec("bob", 3))
	n, err := s.Remove(testKey(1).Fingerprint, testKey(3).Fingerprint, testKey(9).Fingerprint)
	if n != 2 || err != nil {
		t.Errorf("Remove = %d, %v; want 2, nil", n, err)
	}
	if got := listUsers(t, s, ""); got != "alice:2" {
		t.Errorf("after Remove, List = %s, want alice:2", got)
	}
	if _, err := s.Remove("nonsense"); err == nil {
		t.Errorf("Remove(nonsense) = nil, want error")
	}
	// The key is free again for another user.
	mustAdd(t, s, rec("bob", 1))
}

func TestRemoveUser(t *testing.T) {
	s := newStore(t)
	mustAdd(t, s, rec("al", 1), rec("alice", 2), rec("alice", 3), rec("alice.b", 4))
	n, err := s.RemoveUser("alice")
	if n != 2 || err != nil {
		t.Errorf("RemoveUser = %d, %v; want 2, nil", n, err)
	}
	if got := listUsers(t, s, ""); got != "al:1 alice.b:4" {
		t.Errorf("after RemoveUser, List = %s", got)
	}
	if n, err := s.RemoveUser("nobody"); n != 0 || err != nil {
		t.Errorf("RemoveUser(nobody) = %d, %v; want 0, nil", n, err)
	}
}

// listUsers returns "user:i ..." for the listed records, i being the
// test key number found by its comment.
func listUsers(t *testing.T, s *Store, user string) string {
	t.Helper()
	var out []string
	err := s.List(user, func(r Record) error {
		out = append(out, r.User+":"+strings.TrimPrefix(r.Key.Comment, "key"))
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q) = %v", user, err)
	}
	return strings.Join(out, " ")
}

func TestList(t *testing.T) {
	defer func(n int) { listPageSize = n }(listPageSize)
	listPageSize = 2
	s := newStore(t)
	var recs []Record
	for i, u := range []string{"bob", "alice", "al", "bob", "alice", "bob", "alice.b", "bob"} {
		recs = append(recs, rec(u, i))
	}
	mustAdd(t, s, recs...)
	slices.SortFunc(recs, func(a, b Record) int {
		return strings.Compare(a.User+"\x00"+a.Key.Fingerprint, b.User+"\x00"+b.Key.Fingerprint)
	})
	var want []string
	for _, r := range recs {
		want = append(want, r.User+":"+strings.TrimPrefix(r.Key.Comment, "key"))
	}
	if got := listUsers(t, s, ""); got != strings.Join(want, " ") {
		t.Errorf("List() = %s, want %s", got, strings.Join(want, " "))
	}
	if got := listUsers(t, s, "alice"); got != "alice:1 alice:4" && got != "alice:4 alice:1" {
		t.Errorf("List(alice) = %s, want keys 1 and 4", got)
	}
	if got := listUsers(t, s, "bob"); strings.Count(got, "bob:") != 4 {
		t.Errorf("List(bob) = %s, want 4 keys", got)
	}
	stop := errors.New("stop")
	if err := s.List("", func(Record) error { return stop }); err != stop {
		t.Errorf("List with failing fn = %v, want its error", err)
	}
}

func TestAbsentStore(t *testing.T) {
	s := newStore(t)
	if n, err := s.Count(); n != 0 || err != nil {
		t.Errorf("Count = %d, %v; want 0, nil", n, err)
	}
	if got := listUsers(t, s, ""); got != "" {
		t.Errorf("List = %q, want nothing", got)
	}
	if n, err := s.Remove(testKey(1).Fingerprint); n != 0 || err != nil {
		t.Errorf("Remove = %d, %v; want 0, nil", n, err)
	}
	if n, err := s.RemoveUser("alice"); n != 0 || err != nil {
		t.Errorf("RemoveUser = %d, %v; want 0, nil", n, err)
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reads and removals created the store: %v", err)
	}
	// A writer that died between creating and initialising the file
	// leaves it empty: readers see no store, writers initialise it.
	if err := os.WriteFile(s.Path(), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(testKey(1).Fingerprint); !errors.Is(err, ErrNoStore) {
		t.Errorf("Lookup in empty file = %v, want ErrNoStore", err)
	}
	mustAdd(t, s, rec("alice", 1))
	if _, err := s.Lookup(testKey(1).Fingerprint); err != nil {
		t.Errorf("Lookup after Add = %v", err)
	}
}

func TestFileMode(t *testing.T) {
	for _, tt := range []struct {
		opt  Options
		want os.FileMode
	}{
		{Options{}, 0o640},
		{Options{Mode: 0o600}, 0o600},
		{Options{Mode: 0o644, Chown: true, UID: -1, GID: -1}, 0o644},
		{Options{Chown: true, UID: os.Getuid(), GID: os.Getgid()}, 0o640},
	} {
		s := Open(filepath.Join(t.TempDir(), "keys.db"), tt.opt)
		mustAdd(t, s, rec("alice", 1))
		fi, err := os.Stat(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != tt.want {
			t.Errorf("Options %+v: mode = %v, want %v", tt.opt, fi.Mode().Perm(), tt.want)
		}
		if entries, _ := os.ReadDir(filepath.Dir(s.Path())); len(entries) != 1 {
			t.Errorf("store directory holds %d files, want only the store", len(entries))
		}
	}
}

// TestDamagedRecord checks that Lookup refuses a record stored under a
// fingerprint that is not its own key's, as an edited file would have.
func TestDamagedRecord(t *testing.T) {
	s := newStore(t)
	mustAdd(t, s, rec("alice", 1), rec("bob", 2))
	db, err := bolt.Open(s.Path(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		kb := tx.Bucket(bucketKeys)
		bobs := kb.Get([]byte(testKey(2).Fingerprint))
		if err := kb.Put([]byte(testKey(1).Fingerprint), bobs); err != nil {
			return err
		}
		return kb.Put([]byte(testKey(2).Fingerprint), []byte("{"))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 2} {
		if r, err := s.Lookup(testKey(i).Fingerprint); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Lookup of damaged record %d = %+v, %v; want a damage error", i, r, err)
		}
	}
	if n, err := s.Remove(testKey(1).Fingerprint, testKey(2).Fingerprint); n != 2 || err != nil {
		t.Errorf("Remove of damaged records = %d, %v; want 2, nil", n, err)
	}
}

// TestLockTimeout holds the write lock in this process with bbolt itself
// and checks that a Lookup gives up after Options.Timeout.
func TestLockTimeout(t *testing.T) {
	s := newStore(t)
	mustAdd(t, s, rec("alice", 1))
	db, err := bolt.Open(s.Path(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	short := Open(s.Path(), Options{Timeout: 100 * time.Millisecond})
	start := time.Now()
	_, err = short.Lookup(testKey(1).Fingerprint)
	if err != errBusy || time.Since(start) > 2*time.Second {
		t.Errorf("Lookup while locked = %v after %v, want errBusy after 100ms", err, time.Since(start))
	}
	if _, err := short.Add([]Record{rec("alice", 2)}); err != errBusy {
		t.Errorf("Add while locked = %v, want errBusy", err)
	}
	db.Close()
	if _, err := short.Lookup(testKey(1).Fingerprint); err != nil {
		t.Errorf("Lookup after unlock = %v", err)
	}
}

func TestRemoveOwn(t *testing.T) {
	s := newStore(t)
	a1, a2, b := testKey(1).Fingerprint, testKey(2).Fingerprint, testKey(3).Fingerprint
	if err := s.RemoveOwn("alice", a1, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("RemoveOwn on no store = %v, want ErrNotFound", err)
	}
	mustAdd(t, s, rec("alice", 1), rec("alice", 2), rec("bob", 3))
	if err := s.RemoveOwn("alice", b, false); !errors.Is(err, ErrNotFound) {
		t.Errorf("RemoveOwn(alice, bob's key) = %v, want ErrNotFound", err)
	}
	if err := s.RemoveOwn("alice", a1, true); err != nil {
		t.Errorf("RemoveOwn(alice, a1) = %v", err)
	}
	if err := s.RemoveOwn("alice", a2, true); !errors.Is(err, ErrLastKey) {
		t.Errorf("RemoveOwn(alice, last key) = %v, want ErrLastKey", err)
	}
	if err := s.RemoveOwn("bob", b, false); err != nil {
		t.Errorf("RemoveOwn(bob, last key, keepLast false) = %v", err)
	}
	if _, err := s.Lookup(a2); err != nil {
		t.Errorf("alice's last key is gone: %v", err)
	}
}

func TestHasUser(t *testing.T) {
	s := newStore(t)
	if ok, err := s.HasUser("alice"); ok || err != nil {
		t.Errorf("HasUser(alice) on no store = %v, %v; want false, nil", ok, err)
	}
	mustAdd(t, s, rec("alice", 1), rec("alice", 2), rec("alice.b", 3), rec("bob", 4))
	if _, err := s.Remove(testKey(4).Fingerprint); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user string
		want bool
	}{
		{"alice", true},
		{"alice.b", true},
		{"al", false},     // a prefix of alice
		{"alice.", false}, // a prefix of alice.b
		{"alicf", false},
		{"bob", false}, // removed his only key
		{"carol", false},
	} {
		if ok, err := s.HasUser(tt.user); ok != tt.want || err != nil {
			t.Errorf("HasUser(%q) = %v, %v; want %v, nil", tt.user, ok, err, tt.want)
		}
	}
	for _, user := range []string{"", "-alice", "al ice", "alice\x00"} {
		if ok, err := s.HasUser(user); ok || err == nil {
			t.Errorf("HasUser(%q) = %v, %v; want an invalid-username error", user, ok, err)
		}
	}
}
