package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/keys"
)

// TestReplicateStatus checks --status on a store with replica state.
func TestReplicateStatus(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"repos", "data"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "config.toml")
	writeFile(t, cfg, "ssh_user = \"root\"\nrepos = \"repos\"\ndata_dir = \"data\"\npolicy = \"policy.toml\"\n")
	writeFile(t, filepath.Join(dir, "policy.toml"), "")
	store := keys.Open(filepath.Join(dir, "data", "keys.db"), keys.Options{})
	if err := store.ApplyReplica(0, nil, 42); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	e := &env{bytes.NewReader(nil), &stdout, &stderr, func(string) string { return "" }, context.Background()}
	if code := run(e, []string{"--config", cfg, "replicate", "--status"}); code != 0 {
		t.Fatalf("replicate --status = %d, stderr %q", code, stderr.String())
	}
	want := regexp.MustCompile(`^last_id: 42\ncurrent_at: 20\d\d-\d\d-\d\dT[0-9:.]+Z\nlag_seconds: 0\.\d\n$`)
	if !want.MatchString(stdout.String()) {
		t.Errorf("replicate --status printed %q, want it to match %s", stdout.String(), want)
	}
}

// TestNoPostgresClient keeps pgx out of gitserver: 'gitserver replicate'
// execs gitserver-replicate instead (ReplicateHelper). Linked in, pgx made
// the binary 13 MB -> 21 MB and authorized-keys, on every login, about
// 15% dearer in CPU at start-up.
func TestNoPostgresClient(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../../cmd/gitserver").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/jackc/") {
			t.Fatalf("gitserver links %s; keep the PostgreSQL client in cmd/gitserver-replicate; find the importer with: go list -deps -f '{{.ImportPath}} {{.Imports}}' ./cmd/gitserver | grep jackc", pkg)
		}
	}
}
