package cli

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoNetHTTP keeps net/http out of gitserver. sshd starts a fresh
// process twice per login (authorized-keys) and once more for the shell,
// so start-up is on every user's login path (BenchmarkAuthorizedKeys, BenchmarkShell):
// net/http's packages and their init work grew the binary from 10.9 MB to
// 15.2 MB and start-up from ~1.6x to ~1.8x a Go hello-world, for users of
// every driver. driver = "http" runs the HTTP client in a separate
// program, cmd/gitserver-http-driver (internal/httpdriver/httpconf).
func TestNoNetHTTP(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../../cmd/gitserver").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps .: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "net/http" {
			t.Fatal("gitserver links net/http; keep it in cmd/gitserver-http-driver; find the importer with: go list -deps -f '{{.ImportPath}} {{.Imports}}' . | grep net/http")
		}
	}
}
