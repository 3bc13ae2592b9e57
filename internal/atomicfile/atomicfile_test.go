package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.toml")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("new"), 0o640, -1, -1); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if err != nil || string(data) != "new" || fi.Mode().Perm() != 0o640 {
		t.Errorf("after Write: %q, mode %v, %v; want \"new\", 0640", data, fi.Mode().Perm(), err)
	}
	// A failed write (the directory is gone) leaves no temp file.
	if err := Write(filepath.Join(dir, "missing", "x"), []byte("x"), 0o600, -1, -1); err == nil {
		t.Error("Write into a missing directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after the writes, want 1 (no temp file)", len(entries))
	}
}
