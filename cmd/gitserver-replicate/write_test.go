package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/internal/pgtest"
	"github.com/gitserver/gitserver/internal/statewrite"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
)

// otherKey is a second fixed ed25519 public key: for tests only.
const otherKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0p7vVx3mW0m9zNw8GqvTt4wqJqHf1gkrx0H3d6sVeL other"

// gitserver runs the gitserver in bin with cfg and returns its output.
func gitserver(t *testing.T, bin, cfg, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "gitserver"), append([]string{"--config", cfg}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func fingerprint(t *testing.T, line string) string {
	t.Helper()
	k, err := sshkey.ParseLine(line)
	if err != nil {
		t.Fatal(err)
	}
	return k.Fingerprint
}

// TestSharedWrites runs the admin commands as installed, with [store]:
// each write is in PostgreSQL and, when the command returns, in this
// host's replica (read-your-writes), with no replicate running.
func TestSharedWrites(t *testing.T) {
	ctx := context.Background()
	cfg, pg, local := setupHost(t)
	bin := buildBoth(t)
	fp, fp2 := fingerprint(t, testKey), fingerprint(t, otherKey)

	if out, err := gitserver(t, bin, cfg, testKey+"\n"+otherKey+"\n", "keys", "add", "--user", "alice", "-"); err != nil {
		t.Fatalf("keys add: %v\n%s", err, out)
	}
	for _, f := range []string{fp, fp2} {
		if r, err := local.Lookup(f); err != nil || r.User != "alice" {
			t.Errorf("local Lookup(%s) right after keys add = %+v, %v; want alice's", f, r, err)
		}
	}
	if out, err := gitserver(t, bin, cfg, testKey, "keys", "add", "--user", "bob", "-"); err == nil || !strings.Contains(out, `already belongs to user "alice"`) {
		t.Errorf("keys add of alice's key for bob = %v, %q; want a conflict", err, out)
	}
	if out, err := gitserver(t, bin, cfg, "", "keys", "remove", fp); err != nil {
		t.Fatalf("keys remove: %v\n%s", err, out)
	}
	if _, err := local.Lookup(fp); !errors.Is(err, keys.ErrNotFound) {
		t.Errorf("local Lookup after keys remove = %v, want ErrNotFound", err)
	}
	if out, err := gitserver(t, bin, cfg, "", "keys", "list", "--user", "alice"); err != nil || !strings.Contains(out, fp2) || strings.Contains(out, fp) {
		t.Errorf("keys list = %v, %q; want only %s", err, out, fp2)
	}
	n := 0
	if _, err := pg.Snapshot(ctx, func(keys.Record) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("PostgreSQL holds %d keys (%v), want 1", n, err)
	}

	// The policy: checked, stored, and this host's file replaced.
	pol := filepath.Join(t.TempDir(), "new.toml")
	const doc = "[[rule]]\nusers = [\"alice\"]\nrepos = [\"**\"]\naccess = \"write\"\n"
	writeFile(t, pol, doc, 0o644)
	if out, err := gitserver(t, bin, cfg, "", "policy", "push", pol); err != nil || !strings.Contains(out, "policy version ") {
		t.Fatalf("policy push = %v, %q", err, out)
	}
	if got, _ := os.ReadFile(filepath.Join(filepath.Dir(cfg), "policy.toml")); string(got) != doc {
		t.Errorf("local policy after push = %q, want the pushed one", got)
	}
	if d, ok, err := pg.Policy(ctx, 0); !ok || err != nil || string(d.Document) != doc {
		t.Errorf("PostgreSQL policy = %q, %v, %v", d.Document, ok, err)
	}
	writeFile(t, pol, "[[rule]]\nusers = [\"alice\"]\naccess = \"sudo\"\n", 0o644)
	if out, err := gitserver(t, bin, cfg, "", "policy", "push", pol); err == nil || !strings.Contains(out, "nothing changed") {
		t.Errorf("policy push of a bad policy = %v, %q; want refused", err, out)
	}
	if d, _, _ := pg.Policy(ctx, 0); string(d.Document) != doc {
		t.Errorf("a bad policy reached PostgreSQL: %q", d.Document)
	}
}

// TestWritesWithoutPostgres: with PostgreSQL stopped, a write fails with
// a message that says so and changes nothing on this host, whose replica
// still answers lookups; once PostgreSQL is back, writes work again.
func TestWritesWithoutPostgres(t *testing.T) {
	dsn, srv := pgtest.StartOwn(t)
	cfg, _, local := setupHostOn(t, dsn)
	bin := buildBoth(t)
	fp, fp2 := fingerprint(t, testKey), fingerprint(t, otherKey)
	if out, err := gitserver(t, bin, cfg, testKey, "keys", "add", "--user", "alice", "-"); err != nil {
		t.Fatalf("keys add: %v\n%s", err, out)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	out, err := gitserver(t, bin, cfg, otherKey, "keys", "add", "--user", "alice", "-")
	if err == nil || !strings.Contains(out, "cannot reach PostgreSQL") || !strings.Contains(out, "no key was added") {
		t.Errorf("keys add with PostgreSQL stopped = %v, %q; want a clear failure", err, out)
	}
	if out, err := gitserver(t, bin, cfg, "", "keys", "remove", fp); err == nil {
		t.Errorf("keys remove with PostgreSQL stopped succeeded: %q", out)
	}
	if r, err := local.Lookup(fp); err != nil || r.User != "alice" {
		t.Errorf("Lookup with PostgreSQL stopped = %+v, %v; want alice's key still there", r, err)
	}
	if _, err := local.Lookup(fp2); !errors.Is(err, keys.ErrNotFound) {
		t.Errorf("the refused key is in the replica: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if out, err := gitserver(t, bin, cfg, otherKey, "keys", "add", "--user", "alice", "-"); err != nil {
		t.Fatalf("keys add after PostgreSQL is back: %v\n%s", err, out)
	}
	if _, err := local.Lookup(fp2); err != nil {
		t.Errorf("Lookup after the write = %v", err)
	}
}

// TestWriteChecksBuild: a write from a gitserver of another build is
// refused, in the answer, before anything is read from the database.
func TestWriteChecksBuild(t *testing.T) {
	cfg, _, _ := setupHost(t)
	req, _ := json.Marshal(statewrite.Request{Op: statewrite.OpKeysRemoveUser, User: "alice", By: "test"})
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"write", "--build-id=0123456789abcdef01234567", "--config", cfg}, bytes.NewReader(req), &stdout, &stderr)
	var resp statewrite.Response
	if err := json.Unmarshal(stdout.Bytes(), &resp); code != 0 || err != nil || resp.Error == nil || !strings.Contains(resp.Error.Message, "different builds") {
		t.Errorf("write from another build = %d, %q, %q; want an answer that refuses it", code, stdout.String(), stderr.String())
	}
	// A request with an unknown field or operation is refused too.
	for _, body := range []string{`{"op":"keys-add","evil":1}`, `{"op":"drop-tables","by":"x"}`, `not json`} {
		stdout.Reset()
		run(context.Background(), []string{"write", buildID, "--config", cfg}, strings.NewReader(body), &stdout, &stderr)
		if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil || resp.Error == nil {
			t.Errorf("write of %s = %q; want an error answer", body, stdout.String())
		}
	}
}
