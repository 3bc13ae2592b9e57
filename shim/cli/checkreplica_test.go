package cli

import (
	"crypto/ed25519"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
	"golang.org/x/crypto/ssh"
)

// TestCheckReplica: with [store] set, check says when the key store is no
// replica yet, and when its replica was last confirmed current too long
// ago; without [store] it says nothing.
func TestCheckReplica(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	var got []string
	add := func(what, hint string) { got = append(got, what) }
	checkReplica(&cfg, time.Now(), add)
	if len(got) != 0 {
		t.Fatalf("without [store]: %q", got)
	}
	cfg.Store.Postgres = "postgres://gitserver@db/gitserver"
	has := func(now time.Time, want string) bool {
		got = nil
		checkReplica(&cfg, now, add)
		return strings.Contains(strings.Join(got, "\n"), want)
	}
	if !has(time.Now(), "the replica daemon cannot run") {
		t.Errorf("no helper beside the test binary, yet no finding: %q", got)
	}
	store := keys.Open(filepath.Join(cfg.DataDir, "keys.db"), keys.Options{})
	if _, err := store.Add([]keys.Record{{User: "alice", Key: testKeyLine(t)}}); err != nil {
		t.Fatal(err)
	}
	if !has(time.Now(), "is no replica yet") {
		t.Errorf("a store without replica state: %q", got)
	}
	if err := store.ApplyReplica(0, nil, 0); err != nil {
		t.Fatal(err)
	}
	if has(time.Now(), "last confirmed current") {
		t.Errorf("a replica confirmed just now: %q", got)
	}
	if !has(time.Now().Add(2*time.Minute), "last confirmed current 2m0s ago") {
		t.Errorf("a replica two minutes behind: %q", got)
	}
}

// testKeyLine is a fresh ed25519 public key, parsed as the store wants it.
func testKeyLine(t *testing.T) keys.Key {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	k, err := sshkey.ParseLine(string(ssh.MarshalAuthorizedKey(pk)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
