package hooks

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnsureWritesAndRewrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hooks")
	if _, err := Ensure(dir, "/usr/bin/gitserver", "/etc/gitserver/config.toml"); err != nil {
		t.Fatal(err)
	}
	for _, name := range Names {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != 0o755 {
			t.Fatalf("%s: %v, mode %v", name, err, fi.Mode())
		}
	}
	// A changed binary path is written again.
	if _, err := Ensure(dir, "/opt/it's/gitserver", "/etc/gitserver/config.toml"); err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(filepath.Join(dir, "pre-receive"))
	if !strings.Contains(string(body), `exec '/opt/it'\''s/gitserver' --config '/etc/gitserver/config.toml' hook pre-receive "$@"`) {
		t.Fatalf("pre-receive:\n%s", body)
	}
	// The quoting is sh's: the script runs what it names.
	out, err := exec.Command("sh", "-n", filepath.Join(dir, "pre-receive")).CombinedOutput()
	if err != nil {
		t.Fatalf("sh -n: %v %s", err, out)
	}
}

func TestEnsureRefusesWritable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hooks")
	if _, err := Ensure(dir, "/g", "/c"); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "update"), 0o777)
	if _, err := Ensure(dir, "/g", "/c"); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Fatalf("Ensure with a world-writable script = %v", err)
	}
	os.Chmod(filepath.Join(dir, "update"), 0o755)
	os.Chmod(dir, 0o777)
	if _, err := Ensure(dir, "/g", "/c"); err == nil {
		t.Fatalf("Ensure with a world-writable directory succeeded")
	}
	if _, err := Ensure(dir, "g", "/c"); err == nil {
		t.Fatalf("Ensure with a relative binary succeeded")
	}
}

func TestCheck(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hooks")
	if err := Check(dir); err != nil {
		t.Errorf("Check(missing dir) = %v, want nil", err)
	}
	if _, err := Ensure(dir, "/usr/local/bin/gitserver", "/etc/gitserver/config.toml"); err != nil {
		t.Fatal(err)
	}
	if err := Check(dir); err != nil {
		t.Errorf("Check(fresh dir) = %v", err)
	}
	if err := os.Chmod(filepath.Join(dir, Names[0]), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := Check(dir); err == nil {
		t.Error("Check accepted a world-writable hook")
	}
}
