package pgstore

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gitserver/gitserver/internal/pgtest"
	"github.com/gitserver/gitserver/keys"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testKey returns the i-th test ed25519 key, derived from a fixed seed:
// for tests only, NEVER use it anywhere else.
func testKey(i int) keys.Key {
	seed := sha256.Sum256(fmt.Appendf(nil, "gitserver pgstore test key %d", i))
	pk, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(seed[:]).Public())
	if err != nil {
		panic(err)
	}
	blob := pk.Marshal()
	return keys.Key{Type: pk.Type(), Blob: blob, Comment: fmt.Sprintf("key%d", i), Fingerprint: keys.Fingerprint(blob)}
}

func rec(user string, i int) keys.Record {
	return keys.Record{User: user, Title: fmt.Sprintf("title %d", i), Key: testKey(i)}
}

// newStore opens a migrated store on a fresh database.
func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	dsn := pgtest.Start(t)
	s := openStore(t, dsn)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, dsn
}

func openStore(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// line is a record as one line of text, every field included.
func line(r keys.Record) string {
	return strings.Join([]string{r.Key.Fingerprint, r.User, r.Title, r.Key.Type,
		base64.StdEncoding.EncodeToString(r.Key.Blob), r.Key.Comment, r.Added.UTC().Format("2006-01-02T15:04:05.999999999Z")}, " ")
}

// digest is a digest of a set of records, in any order.
func digest(recs map[string]keys.Record) string {
	lines := make([]string, 0, len(recs))
	for _, r := range recs {
		lines = append(lines, line(r))
	}
	slices.Sort(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return fmt.Sprintf("%x (%d keys)", sum[:8], len(recs))
}

// tableDigest is the digest of gitserver_keys, read directly.
func tableDigest(t *testing.T, s *Store) string {
	t.Helper()
	ctx := context.Background()
	rows, err := s.pool.Query(ctx, `SELECT fingerprint, username, title, key_type, key_blob, comment, added FROM gitserver_keys`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	recs := map[string]keys.Record{}
	for rows.Next() {
		var r keys.Record
		if err := rows.Scan(&r.Key.Fingerprint, &r.User, &r.Title, &r.Key.Type, &r.Key.Blob, &r.Key.Comment, &r.Added); err != nil {
			t.Fatal(err)
		}
		recs[r.Key.Fingerprint] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return digest(recs)
}

// replay applies changes to a replica held as a map.
func replay(t *testing.T, replica map[string]keys.Record, changes []Change) {
	t.Helper()
	for _, c := range changes {
		switch c.Kind {
		case KindKeyAdd:
			replica[c.Fingerprint] = c.Record
		case KindKeyRemove:
			if _, ok := replica[c.Fingerprint]; !ok {
				t.Errorf("change %d removes %s, which the replica does not have", c.ID, c.Fingerprint)
			}
			delete(replica, c.Fingerprint)
		}
	}
}

// follow reads every change after id, limit at a time, and returns them.
func follow(t *testing.T, s *Store, id int64, limit int) []Change {
	t.Helper()
	var all []Change
	for {
		cs, err := s.ChangesSince(context.Background(), id, limit)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, cs...)
		if len(cs) < limit {
			return all
		}
		id = cs[len(cs)-1].ID
	}
}
