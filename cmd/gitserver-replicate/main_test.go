package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/exe"
	"github.com/gitserver/gitserver/internal/pgstore"
	"github.com/gitserver/gitserver/internal/pgtest"
	"github.com/gitserver/gitserver/internal/version"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// buildID is the flag gitserver of this build passes: this test binary's.
var buildID = "--build-id=" + version.Get().BuildID()

// testKey is a fixed ed25519 public key: for tests only, NEVER use it
// anywhere else.
const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test"

// setupHost returns a config naming a fresh, migrated database through a
// dsn_file, the database and the host's key store.
func setupHost(t *testing.T) (cfg string, pg *pgstore.Store, local *keys.Store) {
	t.Helper()
	return setupHostOn(t, pgtest.Start(t))
}

// setupHostOn is setupHost on the database dsn.
func setupHostOn(t *testing.T, dsn string) (cfg string, pg *pgstore.Store, local *keys.Store) {
	t.Helper()
	ctx := context.Background()
	pg, err := pgstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Close)
	if err := pg.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, d := range []string{"repos", "data"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "pg.dsn"), dsn+"\n", 0o600)
	writeFile(t, filepath.Join(dir, "policy.toml"), "", 0o644)
	cfg = filepath.Join(dir, "config.toml")
	writeFile(t, cfg, fmt.Sprintf("ssh_user = %q\nrepos = \"repos\"\ndata_dir = \"data\"\npolicy = \"policy.toml\"\n[log]\nlevel = \"debug\"\n[store]\ndsn_file = %q\n",
		sshUser(), filepath.Join(dir, "pg.dsn")), 0o644)
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "data", "gitserver.log"))
			t.Logf("gitserver.log:\n%s", log)
		}
	})
	return cfg, pg, keys.Open(filepath.Join(dir, "data", "keys.db"), keys.Options{})
}

// sshUser is a user that exists: root, or the one running the tests.
func sshUser() string {
	if os.Geteuid() == 0 {
		return "root"
	}
	return os.Getenv("USER")
}

func writeFile(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

// addKey adds testKey for alice in PostgreSQL and returns its fingerprint.
func addKey(t *testing.T, pg *pgstore.Store) string {
	t.Helper()
	k, err := sshkey.ParseLine(testKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pg.AddKeys(context.Background(), []keys.Record{{User: "alice", Title: "test", Key: k}}); err != nil {
		t.Fatal(err)
	}
	return k.Fingerprint
}

// waitFor polls local until fp is there, for at most d.
func waitFor(t *testing.T, local *keys.Store, fp string, d time.Duration) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		if r, err := local.Lookup(fp); err == nil && r.User == "alice" {
			t.Logf("replicated in %v", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > d {
			t.Fatalf("%s not in the local store after %v", fp, d)
		}
	}
}

// TestRun runs the helper in-process until its context ends.
func TestRun(t *testing.T) {
	cfg, pg, local := setupHost(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"run", buildID, "--config", cfg, "--poll", "1m"}, nil, &stderr, &stderr)
	}()
	waitFor(t, local, addKey(t, pg), 5*time.Second)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("run = %d, stderr %q; want 0 when stopped", code, stderr.String())
	}
}

// TestGitserverReplicate runs 'gitserver replicate' as installed: it
// execs this helper from its own directory, which stops on SIGTERM; then
// 'gitserver replicate --status' reports the replica.
func TestGitserverReplicate(t *testing.T) {
	cfg, pg, local := setupHost(t)
	bin := buildBoth(t)
	cmd := exec.Command(filepath.Join(bin, "gitserver"), "--config", cfg, "replicate", "--poll", "100ms")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, local, addKey(t, pg), 10*time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gitserver replicate after SIGTERM: %v, output %q; want exit 0", err, stderr.String())
	}
	out, err := exec.Command(filepath.Join(bin, "gitserver"), "--config", cfg, "replicate", "--status").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "last_id: 1\ncurrent_at: ") || !strings.Contains(string(out), "lag_seconds: ") {
		t.Fatalf("replicate --status = %v, %q; want last_id 1", err, out)
	}
}

// buildBoth builds gitserver and gitserver-replicate into one directory
// that exe.Check accepts (no one else may write it or a directory above
// it) and returns it: a temp dir if it is safe, else one made here.
func buildBoth(t *testing.T) string {
	t.Helper()
	dir := build(t, t.TempDir())
	if exe.Check(filepath.Join(dir, "gitserver-replicate")) == nil {
		return dir
	}
	// A shared /tmp above it: build in a directory nobody else can write
	// above, in the checkout or, as root (a checkout under /tmp), in
	// /usr/local/libexec, as package sshdtest installs for sshd.
	wd, _ := os.Getwd()
	bases := []string{wd}
	if os.Geteuid() == 0 {
		bases = append(bases, "/usr/local/libexec")
	}
	for _, base := range bases {
		if os.MkdirAll(base, 0o755) != nil {
			continue
		}
		here, err := os.MkdirTemp(base, ".build-")
		if err != nil {
			continue
		}
		t.Cleanup(func() { os.RemoveAll(here) })
		if err := os.Chmod(here, 0o755); err != nil {
			t.Fatal(err)
		}
		if d := build(t, here); exe.Check(filepath.Join(d, "gitserver-replicate")) == nil {
			return d
		}
	}
	t.Fatalf("no directory to build in that the safe-executable check accepts (tried %s and %v)", dir, bases)
	return ""
}

// build builds both programs into dir, as the README says to install
// gitserver (static, -trimpath).
func build(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command("go", "build", "-trimpath", "-o", dir+string(os.PathSeparator),
		"github.com/gitserver/gitserver/cmd/gitserver", "github.com/gitserver/gitserver/cmd/gitserver-replicate")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}
