package keys

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitserver/gitserver/keys/internal/testkeys"
	"golang.org/x/crypto/ssh"
)

// BenchmarkLookup measures one Lookup, open to close, as sshd's
// AuthorizedKeysCommand does it, in stores of different sizes. The cost
// should not depend on the size: Lookup is one B+tree Get, O(log n) with a
// tree of 3 to 4 pages at 1,000,000 keys (see the layout comment in
// store_ops.go). Set KEYS_BENCH_1M=1 to add a store of 1,000,000 keys,
// which takes a while to build.
func BenchmarkLookup(b *testing.B) {
	sizes := []int{1000, 100000}
	if os.Getenv("KEYS_BENCH_1M") != "" {
		sizes = append(sizes, 1000000)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			s, fps, _ := benchStore(b, n, 5000)
			i := 0
			for b.Loop() {
				if _, err := s.Lookup(fps[i%len(fps)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkHasUser measures HasUser, which the shell asks at every
// request, next to Lookup on the same store, in which every user has
// 1,000 keys: HasUser seeks once, so it should cost about what Lookup
// costs, however many keys the user has. ListFirst is the way it was
// asked before, a List stopped at the first record, which reads a page of
// listPageSize records first. Set KEYS_BENCH_1M=1 to add a store of
// 1,000,000 keys held by 1,000 users.
func BenchmarkHasUser(b *testing.B) {
	sizes := []int{100000}
	if os.Getenv("KEYS_BENCH_1M") != "" {
		sizes = append(sizes, 1000000)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("keys=%d/users=%d", n, n/1000), func(b *testing.B) {
			s, fps, users := benchStore(b, n, n/1000)
			b.Run("op=Lookup", func(b *testing.B) {
				i := 0
				for b.Loop() {
					if _, err := s.Lookup(fps[i%len(fps)]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			b.Run("op=HasUser", func(b *testing.B) {
				i := 0
				for b.Loop() {
					if ok, err := s.HasUser(users[i%len(users)]); !ok || err != nil {
						b.Fatalf("HasUser = %v, %v", ok, err)
					}
					i++
				}
			})
			b.Run("op=ListFirst", func(b *testing.B) {
				stop := errors.New("stop")
				i := 0
				for b.Loop() {
					if err := s.List(users[i%len(users)], func(Record) error { return stop }); err != stop {
						b.Fatalf("List = %v", err)
					}
					i++
				}
			})
		})
	}
}

// benchStore builds a store of n keys held in turn by users user0 to
// user(users-1), with Import in batches of 5000, and returns it with the
// fingerprints of up to 1000 of its keys, spread over the whole store,
// and the names of the users.
func benchStore(b *testing.B, n, users int) (*Store, []string, []string) {
	b.Helper()
	s := Open(filepath.Join(b.TempDir(), "keys.db"), Options{})
	next := testkeys.Fast(uint64(n))
	names := make([]string, users)
	for u := range names {
		names[u] = fmt.Sprintf("user%d", u)
	}
	var fps []string
	const batch = 5000
	for done := 0; done < n; done += batch {
		recs := make([]Record, 0, batch)
		for i := done; i < min(done+batch, n); i++ {
			pk := next()
			k := Key{Type: pk.Type(), Blob: pk.Marshal(), Fingerprint: ssh.FingerprintSHA256(pk)}
			recs = append(recs, Record{User: names[i%users], Key: k})
			if i%max(1, n/1000) == 0 {
				fps = append(fps, k.Fingerprint)
			}
		}
		if added, errs, err := s.Import(recs); err != nil || len(errs) > 0 || added != len(recs) {
			b.Fatalf("Import: %d added, %v", added, errs)
		}
	}
	return s, fps, names
}
