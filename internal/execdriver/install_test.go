package execdriver_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gitserver/gitserver/internal/exe"
)

// safePath returns the absolute path of the program rel (relative to this
// package), with the files next to it named in also, in a place the exec
// driver accepts: where it is, if nobody else can write there (a
// checkout outside /tmp), or else a copy in a fresh root-owned 0755
// directory, as root. Otherwise the test cannot run.
func safePath(t *testing.T, rel string, also ...string) string {
	t.Helper()
	src := abs(t, rel)
	if exe.Check(src) == nil {
		return src
	}
	if os.Geteuid() != 0 {
		t.Skipf("%s is writable by others and copying it somewhere safe needs root: run from a checkout outside /tmp", src)
	}
	if err := os.MkdirAll("/usr/local/libexec", 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("/usr/local/libexec", "gitserver-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range append([]string{filepath.Base(src)}, also...) {
		data, err := os.ReadFile(filepath.Join(filepath.Dir(src), f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, filepath.Base(src))
}

// launcher is the Python adapter's launcher with its package.
func launcher(t *testing.T) string {
	t.Helper()
	pkg, err := filepath.Glob(abs(t, "../../contrib/python/gitserver_driver/*.py"))
	if err != nil || len(pkg) == 0 {
		t.Fatalf("contrib/python/gitserver_driver: %v", err)
	}
	var also []string
	for _, p := range pkg {
		also = append(also, filepath.Join("gitserver_driver", filepath.Base(p)))
	}
	return safePath(t, "../../contrib/python/gitserver-driver", also...)
}
