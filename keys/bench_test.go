package keys

import (
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
			s, fps := benchStore(b, n)
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

// benchStore builds a store of n keys with Import in batches of 5000 and
// returns it with the fingerprints of up to 1000 of its keys, spread over
// the whole store.
func benchStore(b *testing.B, n int) (*Store, []string) {
	b.Helper()
	s := Open(filepath.Join(b.TempDir(), "keys.db"), Options{})
	next := testkeys.Fast(uint64(n))
	var fps []string
	const batch = 5000
	for done := 0; done < n; done += batch {
		recs := make([]Record, 0, batch)
		for i := done; i < min(done+batch, n); i++ {
			pk := next()
			k := Key{Type: pk.Type(), Blob: pk.Marshal(), Fingerprint: ssh.FingerprintSHA256(pk)}
			recs = append(recs, Record{User: fmt.Sprintf("user%d", i%5000), Key: k})
			if i%max(1, n/1000) == 0 {
				fps = append(fps, k.Fingerprint)
			}
		}
		if added, errs := s.Import(recs); len(errs) > 0 || added != len(recs) {
			b.Fatalf("Import: %d added, %v", added, errs)
		}
	}
	return s, fps
}
